#include "ops.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm.h"
#include "workspace.h"

namespace dts {

namespace {

void add_bias(float* C, int rows, int N, long ldc, const float* bias) {
  if (bias == nullptr) return;
  for (int i = 0; i < rows; ++i) {
    float* row = C + i * ldc;
    for (int j = 0; j < N; ++j) row[j] += bias[j];
  }
}

/** Whether the convolution reads each input pixel once, as a plain matrix (1x1, stride 1, no padding). */
bool pointwise(const ConvShape& s) {
  return s.filterHeight == 1 && s.filterWidth == 1 && s.strideHeight == 1 && s.strideWidth == 1 && s.padTop == 0 &&
         s.padLeft == 0 && s.outHeight == s.inHeight && s.outWidth == s.inWidth;
}

/**
 * The im2col rows of output pixels [r0, r0 + count), as tap pointers: for each filter tap (kh, kw)
 * the input pixel it reads (inChannels floats), or null where the tap falls in the padding.
 */
void input_taps(const ConvShape& s, const float* x, long r0, int count, const float** table) {
  const long perImage = static_cast<long>(s.outHeight) * s.outWidth;
  for (int i = 0; i < count; ++i) {
    const long r = r0 + i;
    const long n = r / perImage;
    const int oh = static_cast<int>((r % perImage) / s.outWidth);
    const int ow = static_cast<int>(r % s.outWidth);
    for (int kh = 0; kh < s.filterHeight; ++kh) {
      const int ih = oh * s.strideHeight - s.padTop + kh * s.dilationHeight;
      for (int kw = 0; kw < s.filterWidth; ++kw) {
        const int iw = ow * s.strideWidth - s.padLeft + kw * s.dilationWidth;
        const bool inside = ih >= 0 && ih < s.inHeight && iw >= 0 && iw < s.inWidth;
        *table++ = inside ? x + ((n * s.inHeight + ih) * s.inWidth + iw) * s.inChannels : nullptr;
      }
    }
  }
}

/**
 * The transposed gather for the input gradient: for input pixel r and each filter tap, the output
 * pixel whose window put that tap on this input pixel (outChannels floats), or null.
 */
void output_taps(const ConvShape& s, const float* dy, long r0, int count, const float** table) {
  const long perImage = static_cast<long>(s.inHeight) * s.inWidth;
  for (int i = 0; i < count; ++i) {
    const long r = r0 + i;
    const long n = r / perImage;
    const int h = static_cast<int>((r % perImage) / s.inWidth);
    const int w = static_cast<int>(r % s.inWidth);
    for (int kh = 0; kh < s.filterHeight; ++kh) {
      const int th = h + s.padTop - kh * s.dilationHeight;
      const int oh = th / s.strideHeight;
      const bool rowHit = th >= 0 && th % s.strideHeight == 0 && oh < s.outHeight;
      for (int kw = 0; kw < s.filterWidth; ++kw) {
        const int tw = w + s.padLeft - kw * s.dilationWidth;
        const int ow = tw / s.strideWidth;
        const bool hit = rowHit && tw >= 0 && tw % s.strideWidth == 0 && ow < s.outWidth;
        *table++ = hit ? dy + ((n * s.outHeight + oh) * s.outWidth + ow) * s.outChannels : nullptr;
      }
    }
  }
}

using Taps = void (*)(const ConvShape&, const float*, long, int, const float**);

/** The tap-pointer table of `count` rows in this worker's scratch. */
const float** tap_table(WorkerScratch& mine, const ConvShape& s, int count) {
  const std::size_t size = static_cast<std::size_t>(count) * s.filterHeight * s.filterWidth;
  if (mine.taps.size() < size) mine.taps.resize(size);
  return mine.taps.data();
}

/**
 * out[rows, N] = gathered(rows, K) x B for every row of `rows`: the shared shape of the forward
 * convolution (gathering input windows) and of the input gradient (gathering output pixels), each
 * row being one tap segment of `width` floats per filter tap. With `direct` the source is already
 * the row matrix (leading dimension K).
 */
void gathered_matmul(Session& session, const ConvShape& s, long rows, int width, int N, const float* source, Taps taps, bool direct,
                     const float* packedB, const float* bias, float* out) {
  const int tapCount = s.filterHeight * s.filterWidth;
  const int K = tapCount * width;
  const int rowTasks = static_cast<int>((rows + kMC - 1) / kMC);
  const int blocks = column_blocks(rowTasks, N, session.threads());
  session.parallel(rowTasks * blocks, static_cast<double>(rows) * K * N, [&](int task, int worker) {
    WorkerScratch& mine = session.scratch(worker);
    const int block = task % blocks;
    const int jBegin = column_block_start(block, blocks, N), jEnd = column_block_start(block + 1, blocks, N);
    const long r0 = static_cast<long>(task / blocks) * kMC;
    const int count = static_cast<int>(std::min<long>(kMC, rows - r0));
    AView a = AView::strided(source + r0 * K, K, 1);
    if (!direct) {
      const float** table = tap_table(mine, s, count);
      taps(s, source, r0, count, table);
      a = AView::gathered(AView::Kind::Rows, table, tapCount, width);
    }
    float* C = out + r0 * N;
    gemm_rows(count, N, K, a, packedB, C, N, false, mine.packedA.ensure(packed_a_size()), jBegin, jEnd);
    if (bias != nullptr) add_bias(C + jBegin, count, jEnd - jBegin, N, bias + jBegin);
  });
}

/** pack_b with its depth blocks spread over the threads (each block's panels are independent). */
void pack_b_parallel(Session& session, const float* B, long rs, long cs, int K, int N, float* out) {
  const int blocks = (K + kKC - 1) / kKC;
  const std::size_t perRow = packed_b_size(1, N);
  session.parallel(blocks, static_cast<double>(K) * N, [&](int block, int) {
    const int k0 = block * kKC;
    pack_b(B + k0 * rs, rs, cs, std::min(kKC, K - k0), N, out + static_cast<std::size_t>(k0) * perRow);
  });
}

/**
 * The input gradient of a strided convolution, one phase (h mod strideH, w mod strideW) of the
 * input at a time: within a phase every pixel is reached by the same filter taps (about
 * 1 / (strideH strideW) of them), so gathering only those skips the products with zeros that the
 * stride-1 gather would multiply. `wt` holds B[(tap, co), ci]; each phase packs its taps' rows
 * (into the session's shared `packed`, gathering them in its `rows`).
 */
void strided_input_gradient(Session& session, const ConvShape& s, const float* dy, const float* wt, float* dx) {
  const int Cout = s.outChannels, N = s.inChannels;
  struct Phase {
    int h, w;
    std::vector<int> kh, kw;  // taps, as (kh[i], kw[i])
    std::size_t packedAt;
    long height, width;       // pixels of the input in this phase
  };
  auto hits = [](int pixel, int pad, int tap, int dilation, int stride) {
    const int t = pixel + pad - tap * dilation;
    return ((t % stride) + stride) % stride == 0;
  };
  std::vector<Phase> phases;
  std::size_t packedTotal = 0;
  for (int ph = 0; ph < std::min(s.strideHeight, s.inHeight); ++ph) {
    for (int pw = 0; pw < std::min(s.strideWidth, s.inWidth); ++pw) {
      Phase phase{ph, pw, {}, {}, packedTotal,
                  (s.inHeight - ph + s.strideHeight - 1) / s.strideHeight, (s.inWidth - pw + s.strideWidth - 1) / s.strideWidth};
      for (int kh = 0; kh < s.filterHeight; ++kh) {
        for (int kw = 0; kw < s.filterWidth; ++kw) {
          if (hits(ph, s.padTop, kh, s.dilationHeight, s.strideHeight) && hits(pw, s.padLeft, kw, s.dilationWidth, s.strideWidth)) {
            phase.kh.push_back(kh);
            phase.kw.push_back(kw);
          }
        }
      }
      packedTotal += packed_b_size(static_cast<int>(phase.kh.size()) * Cout, N);
      phases.push_back(std::move(phase));
    }
  }
  float* packed = session.shared().packed.ensure(packedTotal + 1);
  Buffer& phaseRows = session.shared().rows;
  for (const Phase& phase : phases) {
    const int K = static_cast<int>(phase.kh.size()) * Cout;
    if (K == 0) continue;
    float* rowsOfB = phaseRows.ensure(static_cast<std::size_t>(K) * N + 1);
    for (std::size_t i = 0; i < phase.kh.size(); ++i) {
      const int tap = phase.kh[i] * s.filterWidth + phase.kw[i];
      std::memcpy(rowsOfB + i * Cout * N, wt + static_cast<long>(tap) * Cout * N, sizeof(float) * Cout * N);
    }
    pack_b_parallel(session, rowsOfB, N, 1, K, N, packed + phase.packedAt);
  }
  // One task per (phase, image, row of the phase): its pixels are sW * N floats apart in dx.
  std::vector<long> firstTask(phases.size() + 1, 0);
  for (std::size_t p = 0; p < phases.size(); ++p) firstTask[p + 1] = firstTask[p] + s.batch * phases[p].height;
  const double work = static_cast<double>(s.batch) * s.inHeight * s.inWidth * s.filterHeight * s.filterWidth * Cout * N /
                      (s.strideHeight * s.strideWidth);
  session.parallel(static_cast<int>(firstTask.back()), work, [&](int task, int worker) {
    std::size_t p = 0;
    while (firstTask[p + 1] <= task) ++p;
    const Phase& phase = phases[p];
    const long local = task - firstTask[p];
    const long n = local / phase.height;
    const int h = phase.h + static_cast<int>(local % phase.height) * s.strideHeight;
    const int count = static_cast<int>(phase.width);
    float* C = dx + ((n * s.inHeight + h) * s.inWidth + phase.w) * N;
    const long ldc = static_cast<long>(s.strideWidth) * N;
    const int T = static_cast<int>(phase.kh.size());
    if (T == 0) {
      for (int i = 0; i < count; ++i) std::fill(C + i * ldc, C + i * ldc + N, 0.0f);
      return;
    }
    WorkerScratch& mine = session.scratch(worker);
    const std::size_t tableSize = static_cast<std::size_t>(count) * T;
    if (mine.taps.size() < tableSize) mine.taps.resize(tableSize);
    const float** table = mine.taps.data();
    for (int i = 0; i < count; ++i) {
      const int w = phase.w + i * s.strideWidth;
      for (int t = 0; t < T; ++t) {
        const int oh = (h + s.padTop - phase.kh[t] * s.dilationHeight) / s.strideHeight;
        const int ow = (w + s.padLeft - phase.kw[t] * s.dilationWidth) / s.strideWidth;
        const bool inside = h + s.padTop - phase.kh[t] * s.dilationHeight >= 0 && oh < s.outHeight &&
                            w + s.padLeft - phase.kw[t] * s.dilationWidth >= 0 && ow < s.outWidth;
        table[i * T + t] = inside ? dy + ((n * s.outHeight + oh) * s.outWidth + ow) * Cout : nullptr;
      }
    }
    gemm_rows(count, N, T * Cout, AView::gathered(AView::Kind::Rows, table, T, Cout), packed + phase.packedAt, C, ldc, false,
              mine.packedA.ensure(packed_a_size()));
  });
}

}  // namespace

void batched_matmul(int batch, int M, int N, int K, bool transA, bool transB, const float* A, const float* B,
                    float* C, long strideA, long strideB, long strideC, const float* bias) {
  if (batch <= 0 || M <= 0 || N <= 0) return;
  const long rsA = transA ? 1 : K, csA = transA ? M : 1;
  const long rsB = transB ? 1 : N, csB = transB ? K : 1;
  const double work = static_cast<double>(batch) * M * N * K;
  Session session;
  if (M <= kSmallM && transB && N >= 4 * kMR) {
    // C^T = B A^T: B's N rows (contiguous along k) become the long side of a packed GEMM whose
    // packed operand is A (M x K, small); the N x M result is transposed into C.
    const std::size_t packedSize = packed_b_size(K, M);
    float* packs = session.shared().packed.ensure(packedSize * batch + 1);
    float* result = session.shared().staging.ensure(static_cast<std::size_t>(batch) * N * M + 1);
    for (int b = 0; b < batch; ++b) pack_b(A + b * strideA, csA, rsA, K, M, packs + b * packedSize);
    const int chunks = (N + kMC - 1) / kMC;
    session.parallel(batch * chunks, work, [&](int task, int worker) {
      const int b = task / chunks;
      const int j0 = (task % chunks) * kMC;
      const int rows = std::min(kMC, N - j0);
      float* out = result + static_cast<std::size_t>(b) * N * M + static_cast<std::size_t>(j0) * M;
      gemm_rows(rows, M, K, AView::strided(B + b * strideB + static_cast<long>(j0) * K, K, 1), packs + b * packedSize, out, M,
                false, session.scratch(worker).packedA.ensure(packed_a_size()));
      float* c = C + b * strideC;
      for (int j = j0; j < j0 + rows; ++j) {
        for (int i = 0; i < M; ++i) c[static_cast<long>(i) * N + j] = out[(j - j0) * M + i] + (bias ? bias[j] : 0.0f);
      }
    });
    return;
  }
  if (M <= kSmallM) {
    // Too few rows to repay packing B: stream it once, columns split over the threads.
    constexpr int kColumns = 256;
    const int chunks = (N + kColumns - 1) / kColumns;
    session.parallel(batch * chunks, work, [&](int task, int) {
      const int b = task / chunks;
      const int j0 = (task % chunks) * kColumns;
      const int j1 = std::min(N, j0 + kColumns);
      float* out = C + b * strideC;
      gemm_small_m(M, j0, j1, K, A + b * strideA, rsA, csA, B + b * strideB, rsB, csB, out, N);
      if (bias != nullptr) {
        for (int i = 0; i < M; ++i) {
          for (int j = j0; j < j1; ++j) out[i * N + j] += bias[j];
        }
      }
    });
    return;
  }
  const int distinctB = strideB == 0 ? 1 : batch;
  const std::size_t packedSize = packed_b_size(K, N);
  float* packed = session.shared().packed.ensure(packedSize * distinctB + 1);
  session.parallel(distinctB, work, [&](int b, int) { pack_b(B + b * strideB, rsB, csB, K, N, packed + b * packedSize); });
  const int chunks = (M + kMC - 1) / kMC;
  const int blocks = column_blocks(batch * chunks, N, session.threads());
  session.parallel(batch * chunks * blocks, work, [&](int task, int worker) {
    const int block = task % blocks;
    const int jBegin = column_block_start(block, blocks, N), jEnd = column_block_start(block + 1, blocks, N);
    const int b = task / blocks / chunks;
    const int i0 = (task / blocks % chunks) * kMC;
    const int rows = std::min(kMC, M - i0);
    float* out = C + b * strideC + static_cast<long>(i0) * N;
    gemm_rows(rows, N, K, AView::strided(A + b * strideA + i0 * rsA, rsA, csA), packed + (strideB == 0 ? 0 : b * packedSize),
              out, N, false, session.scratch(worker).packedA.ensure(packed_a_size()), jBegin, jEnd);
    if (bias != nullptr) add_bias(out + jBegin, rows, jEnd - jBegin, N, bias + jBegin);
  });
}

void conv2d(const ConvShape& s, const float* x, const float* w, const float* bias, float* y) {
  const long rows = static_cast<long>(s.batch) * s.outHeight * s.outWidth;
  const int K = s.filterHeight * s.filterWidth * s.inChannels;
  const int N = s.outChannels;
  if (rows == 0 || N == 0) return;
  Session session;
  float* packed = session.shared().packed.ensure(packed_b_size(K, N) + 1);
  pack_b_parallel(session, w, N, 1, K, N, packed);  // HWIO is already the [K, N] matrix
  gathered_matmul(session, s, rows, s.inChannels, N, x, input_taps, pointwise(s), packed, bias, y);
}

void conv2d_backprop_input(const ConvShape& s, const float* dy, const float* w, float* dx) {
  const long rows = static_cast<long>(s.batch) * s.inHeight * s.inWidth;
  const int taps = s.filterHeight * s.filterWidth;
  const int K = taps * s.outChannels;
  const int N = s.inChannels;
  if (rows == 0 || N == 0) return;
  Session session;
  // B[(tap, co), ci] = w[tap, ci, co]: each tap's Cin x Cout block transposed.
  float* wt = session.shared().staging.ensure(static_cast<std::size_t>(K) * N + 1);
  session.parallel(taps, static_cast<double>(K) * N, [&](int tap, int) {
    const float* src = w + static_cast<long>(tap) * N * s.outChannels;
    float* dst = wt + static_cast<long>(tap) * s.outChannels * N;
    // Blocks of 16 x 16 keep both the reads and the writes within a few cache lines.
    for (int ci0 = 0; ci0 < N; ci0 += 16) {
      for (int co0 = 0; co0 < s.outChannels; co0 += 16) {
        const int ci1 = std::min(N, ci0 + 16), co1 = std::min(s.outChannels, co0 + 16);
        for (int ci = ci0; ci < ci1; ++ci) {
          for (int co = co0; co < co1; ++co) dst[co * N + ci] = src[ci * s.outChannels + co];
        }
      }
    }
  });
  if (s.strideHeight == 1 && s.strideWidth == 1) {
    float* packed = session.shared().packed.ensure(packed_b_size(K, N) + 1);
    pack_b_parallel(session, wt, N, 1, K, N, packed);
    gathered_matmul(session, s, rows, s.outChannels, N, dy, output_taps, pointwise(s), packed, nullptr, dx);
    return;
  }
  strided_input_gradient(session, s, dy, wt, dx);
}

void conv2d_backprop_filter(const ConvShape& s, const float* x, const float* dy, float* dw) {
  const long rows = static_cast<long>(s.batch) * s.outHeight * s.outWidth;
  const int K = s.filterHeight * s.filterWidth * s.inChannels;
  const int N = s.outChannels;
  const std::size_t size = static_cast<std::size_t>(K) * N;
  std::fill(dw, dw + size, 0.0f);
  if (rows == 0 || size == 0) return;
  const bool direct = pointwise(s);
  Session session;
  const int threads = session.threads();
  const double work = static_cast<double>(rows) * K * N;
  const int chunks = static_cast<int>((rows + kKC - 1) / kKC);
  // dw = cols^T dy over chunks of kKC output pixels. A = cols^T: row i is a (tap, input channel),
  // depth p an output pixel of the chunk; this packs that chunk's dy and multiplies rows [i0, i1).
  auto accumulate_chunk = [&](WorkerScratch& mine, int chunk, int i0, int i1, float* target, bool add) {
    const long r0 = static_cast<long>(chunk) * kKC;
    const int count = static_cast<int>(std::min<long>(kKC, rows - r0));
    AView a = AView::strided(x + r0 * K, 1, K);
    if (!direct) {
      const float** table = tap_table(mine, s, count);
      input_taps(s, x, r0, count, table);
      a = AView::gathered(AView::Kind::Columns, table, s.filterHeight * s.filterWidth, s.inChannels);
    }
    float* packedDy = mine.packedB.ensure(packed_b_size(count, N));
    pack_b(dy + r0 * N, N, 1, count, N, packedDy);
    gemm_rows(i1 - i0, N, count, a.from_row(i0), packedDy, target + static_cast<long>(i0) * N, N, add,
              mine.packedA.ensure(packed_a_size()));
  };
  if (chunks < 2 * threads && work >= kParallelWork) {
    // Few pixels: split dw's rows over the threads instead, each summing every chunk itself.
    const int blocks = std::min(2 * threads, (K + kMR - 1) / kMR);
    session.parallel(blocks, work, [&](int block, int worker) {
      const int i0 = static_cast<int>(static_cast<long>((K + kMR - 1) / kMR) * block / blocks) * kMR;
      const int i1 = std::min(K, static_cast<int>(static_cast<long>((K + kMR - 1) / kMR) * (block + 1) / blocks) * kMR);
      if (i1 <= i0) return;
      for (int chunk = 0; chunk < chunks; ++chunk) accumulate_chunk(session.scratch(worker), chunk, i0, i1, dw, chunk > 0);
    });
    return;
  }
  // Many pixels: each worker sums its chunks into a partial of its own, added up at the end.
  for (int worker = 0; worker < threads; ++worker) session.scratch(worker).partialUsed = false;
  session.parallel(chunks, work, [&](int chunk, int worker) {
    WorkerScratch& mine = session.scratch(worker);
    accumulate_chunk(mine, chunk, 0, K, mine.partial.ensure(size), mine.partialUsed);
    mine.partialUsed = true;
  });
  for (int worker = 0; worker < threads; ++worker) {
    WorkerScratch& mine = session.scratch(worker);
    if (!mine.partialUsed) continue;
    const float* partial = mine.partial.ensure(size);
    for (std::size_t i = 0; i < size; ++i) dw[i] += partial[i];
  }
}

}  // namespace dts
