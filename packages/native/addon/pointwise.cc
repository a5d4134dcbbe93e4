#include "pointwise.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "workspace.h"

namespace dts {

namespace {

/** Elements per task: large enough to amortise the pool, small enough to share. */
constexpr long kChunk = 1L << 15;

/** Calls body(begin, end) over [0, n) in chunks, on the pool when n is large. */
template <typename Body>
void chunks(long n, Body body) {
  const long tasks = (n + kChunk - 1) / kChunk;
  parallel_for(static_cast<int>(tasks), static_cast<double>(n) * 4, [&](int task, int) {
    const long begin = task * kChunk;
    body(begin, std::min(n, begin + kChunk));
  });
}

template <typename F>
inline void apply_binary(F f, const float* a, long na, const float* b, long nb, float* out, long begin, long end) {
  // Valid calls have max(na, nb) == n; the other side is n (no broadcast), 1 (a scalar) or a
  // period that divides n (a trailing shape, such as one value per channel).
  if (na == nb) {
    for (long i = begin; i < end; ++i) out[i] = f(a[i], b[i]);
  } else if (na == 1) {
    const float s = a[0];
    for (long i = begin; i < end; ++i) out[i] = f(s, b[i]);
  } else if (nb == 1) {
    const float s = b[0];
    for (long i = begin; i < end; ++i) out[i] = f(a[i], s);
  } else {
    const long p = std::min(na, nb);
    const bool aRepeats = na < nb;
    for (long i = begin; i < end;) {
      const long offset = i % p;
      const long stop = std::min(end, i - offset + p);
      const float* small = (aRepeats ? a : b) - (i - offset);
      if (aRepeats) {
        for (long j = i; j < stop; ++j) out[j] = f(small[j], b[j]);
      } else {
        for (long j = i; j < stop; ++j) out[j] = f(a[j], small[j]);
      }
      i = stop;
    }
  }
}

/** exp(x) for float32, about 1 ulp: 2^k p(r), with r = x - k ln 2 and a degree-6 polynomial. */
inline float fast_exp(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float k = std::floor(x * 1.44269504088896341f + 0.5f);
  const float r = (x - k * 0.693359375f) + k * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^k from its exponent bits (k lies in [-126, 127] after the clamp).
  union {
    int bits;
    float value;
  } scale = {(static_cast<int>(k) + 127) << 23};
  return p * scale.value;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DTS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DTS_CLONES
#endif

DTS_CLONES void sigmoid_range(const float* x, float* out, long begin, long end) {
#pragma omp simd
  for (long i = begin; i < end; ++i) out[i] = 1.0f / (1.0f + fast_exp(-x[i]));
}

DTS_CLONES void silu_range(const float* x, float* out, long begin, long end) {
#pragma omp simd
  for (long i = begin; i < end; ++i) out[i] = x[i] / (1.0f + fast_exp(-x[i]));
}

DTS_CLONES void silu_grad_range(const float* x, const float* dy, float* out, long begin, long end) {
#pragma omp simd
  for (long i = begin; i < end; ++i) {
    const float s = 1.0f / (1.0f + fast_exp(-x[i]));
    out[i] = dy[i] * (s * (1.0f + x[i] * (1.0f - s)));
  }
}

DTS_CLONES void adam_range(const float* w, const float* g, const float* m, const float* v, float* outW, float* outM,
                           float* outV, long begin, long end, float beta1, float oneMinusBeta1, float beta2,
                           float oneMinusBeta2, float decay, float sqrtCorrection2, float epsilon, float stepSize) {
#pragma omp simd
  for (long i = begin; i < end; ++i) {
    const float gi = g[i];
    const float mi = m[i] * beta1 + gi * oneMinusBeta1;
    const float vi = v[i] * beta2 + (gi * gi) * oneMinusBeta2;
    const float wi = w[i] * decay;
    const float denominator = std::sqrt(vi) / sqrtCorrection2 + epsilon;
    outM[i] = mi;
    outV[i] = vi;
    outW[i] = wi - (mi / denominator) * stepSize;
  }
}

}  // namespace

void binary(BinaryOp op, const float* a, long na, const float* b, long nb, float* out, long n) {
  chunks(n, [&](long begin, long end) {
    switch (op) {
      case BinaryOp::Add:
        apply_binary([](float x, float y) { return x + y; }, a, na, b, nb, out, begin, end);
        break;
      case BinaryOp::Sub:
        apply_binary([](float x, float y) { return x - y; }, a, na, b, nb, out, begin, end);
        break;
      case BinaryOp::Mul:
        apply_binary([](float x, float y) { return x * y; }, a, na, b, nb, out, begin, end);
        break;
      case BinaryOp::Div:
        apply_binary([](float x, float y) { return x / y; }, a, na, b, nb, out, begin, end);
        break;
      case BinaryOp::SiluGrad:
        silu_grad_range(a, b, out, begin, end);
        break;
    }
  });
}

void unary(UnaryOp op, const float* x, float* out, long n) {
  chunks(n, [&](long begin, long end) {
    switch (op) {
      case UnaryOp::Square:
        for (long i = begin; i < end; ++i) out[i] = x[i] * x[i];
        break;
      case UnaryOp::Sqrt:
        for (long i = begin; i < end; ++i) out[i] = std::sqrt(x[i]);
        break;
      case UnaryOp::Rsqrt:
        for (long i = begin; i < end; ++i) out[i] = 1.0f / std::sqrt(x[i]);
        break;
      case UnaryOp::Neg:
        for (long i = begin; i < end; ++i) out[i] = -x[i];
        break;
      case UnaryOp::Sigmoid:
        sigmoid_range(x, out, begin, end);
        break;
      case UnaryOp::Silu:
        silu_range(x, out, begin, end);
        break;
    }
  });
}

void reduce_sum(const float* x, float* out, long outer, long inner, bool overRows) {
  if (!overRows) {
    chunks(outer, [&](long begin, long end) {
      for (long o = begin; o < end; ++o) {
        double sum = 0;
        const float* row = x + o * inner;
        for (long j = 0; j < inner; ++j) sum += row[j];
        out[o] = static_cast<float>(sum);
      }
    });
    return;
  }
  // Over rows: each task sums a band of rows into a partial of its own (double), added at the end.
  const long rowsPerTask = std::max(1L, kChunk / std::max(1L, inner));
  const int tasks = static_cast<int>((outer + rowsPerTask - 1) / rowsPerTask);
  std::vector<double> partials(static_cast<std::size_t>(tasks) * inner, 0.0);
  parallel_for(tasks, static_cast<double>(outer) * inner * 4, [&](int task, int) {
    double* partial = partials.data() + static_cast<std::size_t>(task) * inner;
    const long first = task * rowsPerTask, last = std::min(outer, first + rowsPerTask);
    for (long o = first; o < last; ++o) {
      const float* row = x + o * inner;
      for (long j = 0; j < inner; ++j) partial[j] += row[j];
    }
  });
  for (long j = 0; j < inner; ++j) {
    double sum = 0;
    for (int task = 0; task < tasks; ++task) sum += partials[static_cast<std::size_t>(task) * inner + j];
    out[j] = static_cast<float>(sum);
  }
}

void add_n(const float* const* inputs, int count, float* out, long n) {
  chunks(n, [&](long begin, long end) {
    for (long i = begin; i < end; ++i) out[i] = inputs[0][i];
    for (int k = 1; k < count; ++k) {
      const float* in = inputs[k];
      for (long i = begin; i < end; ++i) out[i] += in[i];
    }
  });
}

void group_norm(const float* x, const float* gamma, const float* beta, float* out, float* centered, float* inverseStd,
                long batch, long pixels, long channels, long groups, double epsilon) {
  const long perGroup = channels / groups;
  parallel_for(static_cast<int>(batch), static_cast<double>(batch) * pixels * channels * 4, [&](int b, int) {
    const float* xb = x + b * pixels * channels;
    float* cb = centered + b * pixels * channels;
    float* ob = out + b * pixels * channels;
    std::vector<double> sums(channels, 0.0);
    for (long p = 0; p < pixels; ++p) {
      const float* row = xb + p * channels;
      for (long c = 0; c < channels; ++c) sums[c] += row[c];
    }
    std::vector<float> mean(channels), scale(channels), shift(channels);
    for (long g = 0; g < groups; ++g) {
      double total = 0;
      for (long c = g * perGroup; c < (g + 1) * perGroup; ++c) total += sums[c];
      const float groupMean = static_cast<float>(total / static_cast<double>(pixels * perGroup));
      for (long c = g * perGroup; c < (g + 1) * perGroup; ++c) mean[c] = groupMean;
    }
    std::fill(sums.begin(), sums.end(), 0.0);
    for (long p = 0; p < pixels; ++p) {
      const float* row = xb + p * channels;
      float* crow = cb + p * channels;
      for (long c = 0; c < channels; ++c) {
        const float d = row[c] - mean[c];
        crow[c] = d;
        sums[c] += static_cast<double>(d) * d;
      }
    }
    for (long g = 0; g < groups; ++g) {
      double total = 0;
      for (long c = g * perGroup; c < (g + 1) * perGroup; ++c) total += sums[c];
      const float inverse = static_cast<float>(1.0 / std::sqrt(total / static_cast<double>(pixels * perGroup) + epsilon));
      for (long c = g * perGroup; c < (g + 1) * perGroup; ++c) {
        inverseStd[b * channels + c] = inverse;
        scale[c] = inverse * gamma[c];
        shift[c] = beta[c];
      }
    }
    for (long p = 0; p < pixels; ++p) {
      const float* crow = cb + p * channels;
      float* orow = ob + p * channels;
      for (long c = 0; c < channels; ++c) orow[c] = crow[c] * scale[c] + shift[c];
    }
  });
}

void adam_update(const float* w, const float* g, const float* m, const float* v, float* outW, float* outM, float* outV,
                 long n, const AdamHyper& h) {
  const float beta1 = static_cast<float>(h.beta1), oneMinusBeta1 = static_cast<float>(1 - h.beta1);
  const float beta2 = static_cast<float>(h.beta2), oneMinusBeta2 = static_cast<float>(1 - h.beta2);
  // Without weight decay the variable is used as it is (tfjs' composition skips the multiply).
  const float decay = h.weightDecay > 0 ? static_cast<float>(1 - h.learningRate * h.weightDecay) : 1.0f;
  const float sqrtCorrection2 = static_cast<float>(std::sqrt(h.correction2));
  const float epsilon = static_cast<float>(h.epsilon);
  const float stepSize = static_cast<float>(h.learningRate / h.correction1);
  chunks(n, [&](long begin, long end) {
    adam_range(w, g, m, v, outW, outM, outV, begin, end, beta1, oneMinusBeta1, beta2, oneMinusBeta2, decay,
               sqrtCorrection2, epsilon, stepSize);
  });
}

}  // namespace dts
