// Standalone checks of the addon's kernels against naive double-precision loops: batched GEMM
// (every transpose, broadcast batch, bias, the small-M paths), convolution and both of its
// gradients (strides, dilations, padding, 1x1), the elementwise kernels, GroupNorm, AdamW and the
// layout copies; then the same operations from several threads at once while another thread
// changes the thread count. No Node: scripts/test-addon.mjs builds this with the kernels' sources,
// plainly and with -fsanitize=address,undefined, and runs it for every instruction set the CPU has.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../gemm.h"
#include "../layout.h"
#include "../ops.h"
#include "../pointwise.h"
#include "../thread-pool.h"
#include "../workspace.h"

namespace {

int failures = 0;
int checks = 0;

/** Deterministic values in [-1, 1). */
std::vector<float> random_values(std::size_t count, std::uint32_t seed) {
  std::vector<float> values(count);
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float& value : values) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    value = static_cast<float>((state >> 40) & 0xFFFFFF) / 8388608.0f - 1.0f;
  }
  return values;
}

/** Largest absolute difference relative to the reference's largest magnitude; records a check. */
void expect_close(const std::string& what, const std::vector<float>& actual, const std::vector<double>& expected,
                  double tolerance) {
  ++checks;
  double scale = 0, worst = 0;
  bool finite = actual.size() == expected.size();
  for (std::size_t i = 0; finite && i < expected.size(); ++i) {
    if (!std::isfinite(actual[i])) finite = false;
    scale = std::max(scale, std::fabs(expected[i]));
    worst = std::max(worst, std::fabs(actual[i] - expected[i]));
  }
  const double error = worst / (scale > 0 ? scale : 1);
  if (!finite || !(error <= tolerance)) {
    ++failures;
    std::printf("FAIL %s: relative error %.3g (tolerance %.1g)%s\n", what.c_str(), error, tolerance,
                finite ? "" : ", sizes differ or not finite");
  }
}

// --- GEMM -----------------------------------------------------------------------------------

struct GemmCase {
  int batch, M, N, K;
  bool transA, transB, broadcastA, broadcastB, bias;
};

std::string describe(const GemmCase& g) {
  char text[160];
  std::snprintf(text, sizeof text, "gemm batch %d M %d N %d K %d%s%s%s%s%s", g.batch, g.M, g.N, g.K,
                g.transA ? " transA" : "", g.transB ? " transB" : "", g.broadcastA ? " broadcastA" : "",
                g.broadcastB ? " broadcastB" : "", g.bias ? " bias" : "");
  return text;
}

std::vector<float> run_gemm(const GemmCase& g, std::uint32_t seed) {
  const long strideA = g.broadcastA ? 0 : static_cast<long>(g.M) * g.K;
  const long strideB = g.broadcastB ? 0 : static_cast<long>(g.K) * g.N;
  const auto A = random_values(static_cast<std::size_t>(g.broadcastA ? 1 : g.batch) * g.M * g.K, seed);
  const auto B = random_values(static_cast<std::size_t>(g.broadcastB ? 1 : g.batch) * g.K * g.N, seed + 1);
  const auto bias = random_values(g.N, seed + 2);
  std::vector<float> C(static_cast<std::size_t>(g.batch) * g.M * g.N, NAN);
  dts::batched_matmul(g.batch, g.M, g.N, g.K, g.transA, g.transB, A.data(), B.data(), C.data(), strideA, strideB,
                      static_cast<long>(g.M) * g.N, g.bias ? bias.data() : nullptr);
  return C;
}

std::vector<double> naive_gemm(const GemmCase& g, std::uint32_t seed) {
  const auto A = random_values(static_cast<std::size_t>(g.broadcastA ? 1 : g.batch) * g.M * g.K, seed);
  const auto B = random_values(static_cast<std::size_t>(g.broadcastB ? 1 : g.batch) * g.K * g.N, seed + 1);
  const auto bias = random_values(g.N, seed + 2);
  std::vector<double> C(static_cast<std::size_t>(g.batch) * g.M * g.N);
  for (int b = 0; b < g.batch; ++b) {
    const float* a = A.data() + (g.broadcastA ? 0 : static_cast<std::size_t>(b) * g.M * g.K);
    const float* bb = B.data() + (g.broadcastB ? 0 : static_cast<std::size_t>(b) * g.K * g.N);
    for (int i = 0; i < g.M; ++i) {
      for (int j = 0; j < g.N; ++j) {
        double sum = g.bias ? bias[j] : 0.0;
        for (int k = 0; k < g.K; ++k) {
          sum += static_cast<double>(a[g.transA ? k * g.M + i : i * g.K + k]) * bb[g.transB ? j * g.K + k : k * g.N + j];
        }
        C[(static_cast<std::size_t>(b) * g.M + i) * g.N + j] = sum;
      }
    }
  }
  return C;
}

const std::vector<GemmCase> kGemmCases = {
    {1, 1, 1, 1, false, false, false, false, false},
    {1, 7, 13, 5, false, false, false, false, true},
    {2, 37, 45, 300, false, false, false, false, true},   // K crosses a packed block, N a tile
    {1, 130, 70, 65, true, false, false, false, false},   // M crosses a row block
    {3, 20, 33, 17, false, true, false, false, false},
    {2, 25, 40, 19, true, true, false, true, true},
    {4, 9, 18, 11, false, false, true, false, false},
    {2, 4, 50, 64, false, true, false, false, true},      // few rows, B transposed: C^T = B A^T
    {3, 6, 300, 40, false, false, false, true, true},     // few rows, streamed B
    {1, 8, 600, 70, true, false, false, false, false},
    {2, 3, 5, 0, false, false, false, false, true},       // K = 0: bias only
};

void test_gemm() {
  std::uint32_t seed = 1;
  for (const GemmCase& g : kGemmCases) {
    expect_close(describe(g), run_gemm(g, seed), naive_gemm(g, seed), 2e-5);
    seed += 10;
  }
}

// --- convolution ----------------------------------------------------------------------------

struct ConvCase {
  const char* name;
  dts::ConvShape s;
};

/** A case with symmetric padding `pad` (the output size follows from it). */
ConvCase conv_case(const char* name, int n, int h, int w, int cin, int kh, int kw, int cout, int stride, int dilation,
                   int pad) {
  dts::ConvShape s{n, h, w, cin, kh, kw, cout, stride, stride, dilation, dilation, pad, pad, 0, 0};
  s.outHeight = (h + 2 * pad - dilation * (kh - 1) - 1) / stride + 1;
  s.outWidth = (w + 2 * pad - dilation * (kw - 1) - 1) / stride + 1;
  return {name, s};
}

std::vector<ConvCase> conv_cases() {
  std::vector<ConvCase> cases = {
      conv_case("3x3 same", 2, 8, 7, 5, 3, 3, 6, 1, 1, 1),
      conv_case("3x3 valid, stride 2", 1, 9, 10, 4, 3, 3, 7, 2, 1, 0),
      conv_case("3x3 stride 2, pad 1", 2, 8, 8, 6, 3, 3, 5, 2, 1, 1),
      conv_case("3x3 dilation 2", 1, 10, 9, 3, 3, 3, 4, 1, 2, 2),
      conv_case("1x1 pointwise", 2, 6, 5, 33, 1, 1, 17, 1, 1, 0),
      conv_case("1x1 stride 2", 1, 7, 7, 8, 1, 1, 9, 2, 1, 0),
      conv_case("5x3, many channels", 1, 6, 6, 40, 5, 3, 70, 1, 1, 1),
      conv_case("many pixels", 3, 24, 24, 8, 3, 3, 16, 1, 1, 1),
  };
  // tfjs' 'same' with stride 2 on an even size pads one more at the bottom/right than at the top/left.
  ConvCase same = conv_case("3x3 same stride 2 (asymmetric padding)", 1, 8, 8, 3, 3, 3, 4, 2, 1, 0);
  same.s.outHeight = 4;
  same.s.outWidth = 4;
  cases.push_back(same);
  return cases;
}

/** Calls visit(x index, w index, y index) for every multiply of the convolution. */
template <typename Visit>
void for_each_multiply(const dts::ConvShape& s, Visit visit) {
  for (int n = 0; n < s.batch; ++n)
    for (int oh = 0; oh < s.outHeight; ++oh)
      for (int ow = 0; ow < s.outWidth; ++ow)
        for (int kh = 0; kh < s.filterHeight; ++kh)
          for (int kw = 0; kw < s.filterWidth; ++kw) {
            const int ih = oh * s.strideHeight - s.padTop + kh * s.dilationHeight;
            const int iw = ow * s.strideWidth - s.padLeft + kw * s.dilationWidth;
            if (ih < 0 || ih >= s.inHeight || iw < 0 || iw >= s.inWidth) continue;
            for (int ci = 0; ci < s.inChannels; ++ci)
              for (int co = 0; co < s.outChannels; ++co) {
                const std::size_t x = ((static_cast<std::size_t>(n) * s.inHeight + ih) * s.inWidth + iw) * s.inChannels + ci;
                const std::size_t w = ((static_cast<std::size_t>(kh) * s.filterWidth + kw) * s.inChannels + ci) * s.outChannels + co;
                const std::size_t y = ((static_cast<std::size_t>(n) * s.outHeight + oh) * s.outWidth + ow) * s.outChannels + co;
                visit(x, w, y);
              }
          }
}

struct ConvData {
  std::vector<float> x, w, bias, dy;
};

ConvData conv_data(const dts::ConvShape& s, std::uint32_t seed) {
  const std::size_t xs = static_cast<std::size_t>(s.batch) * s.inHeight * s.inWidth * s.inChannels;
  const std::size_t ws = static_cast<std::size_t>(s.filterHeight) * s.filterWidth * s.inChannels * s.outChannels;
  const std::size_t ys = static_cast<std::size_t>(s.batch) * s.outHeight * s.outWidth * s.outChannels;
  return {random_values(xs, seed), random_values(ws, seed + 1), random_values(s.outChannels, seed + 2),
          random_values(ys, seed + 3)};
}

void test_conv() {
  std::uint32_t seed = 100;
  for (const ConvCase& c : conv_cases()) {
    const dts::ConvShape& s = c.s;
    const ConvData d = conv_data(s, seed);
    std::vector<double> y(d.dy.size()), dx(d.x.size(), 0.0), dw(d.w.size(), 0.0);
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = d.bias[i % s.outChannels];
    for_each_multiply(s, [&](std::size_t xi, std::size_t wi, std::size_t yi) {
      y[yi] += static_cast<double>(d.x[xi]) * d.w[wi];
      dx[xi] += static_cast<double>(d.dy[yi]) * d.w[wi];
      dw[wi] += static_cast<double>(d.x[xi]) * d.dy[yi];
    });
    std::vector<float> actualY(y.size(), NAN), actualDx(dx.size(), NAN), actualDw(dw.size(), NAN);
    dts::conv2d(s, d.x.data(), d.w.data(), d.bias.data(), actualY.data());
    dts::conv2d_backprop_input(s, d.dy.data(), d.w.data(), actualDx.data());
    dts::conv2d_backprop_filter(s, d.x.data(), d.dy.data(), actualDw.data());
    expect_close(std::string("conv2d ") + c.name, actualY, y, 2e-5);
    expect_close(std::string("conv2d input gradient ") + c.name, actualDx, dx, 2e-5);
    expect_close(std::string("conv2d filter gradient ") + c.name, actualDw, dw, 2e-5);
    seed += 10;
  }
}

// --- elementwise, GroupNorm, AdamW ------------------------------------------------------------

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

void test_pointwise() {
  const long n = 100003;  // several tasks, and a tail
  const auto a = random_values(n, 7), b = random_values(n, 8);
  // Binary: same sizes, a scalar on either side, a period (one value per channel) on either side.
  const long period = 7;
  struct Shape {
    const char* name;
    long na, nb;
  };
  const Shape shapes[] = {{"same", n, n}, {"scalar b", n, 1}, {"scalar a", 1, n}, {"period b", n, period}, {"period a", period, n}};
  const char* names[] = {"add", "sub", "mul", "div"};
  for (int op = 0; op < 4; ++op) {
    for (const Shape& shape : shapes) {
      const long total = shape.na == 1 || shape.nb == 1 ? n : (shape.na == period || shape.nb == period ? n - n % period : n);
      const long na = shape.na == n ? total : shape.na, nb = shape.nb == n ? total : shape.nb;
      std::vector<float> out(total, NAN);
      std::vector<double> expected(total);
      for (long i = 0; i < total; ++i) {
        const double x = a[i % na], y = b[i % nb] + (op == 3 ? 2.0f : 0.0f);
        expected[i] = op == 0 ? x + y : op == 1 ? x - y : op == 2 ? x * y : x / static_cast<float>(y);
      }
      std::vector<float> divisor(b.begin(), b.begin() + nb);
      if (op == 3) for (float& value : divisor) value += 2.0f;
      dts::binary(static_cast<dts::BinaryOp>(op), a.data(), na, divisor.data(), nb, out.data(), total);
      expect_close(std::string("binary ") + names[op] + " " + shape.name, out, expected, 1e-6);
    }
  }
  {
    std::vector<float> out(n, NAN);
    std::vector<double> expected(n);
    for (long i = 0; i < n; ++i) {
      const double x = a[i] * 8, s = sigmoid(x);
      expected[i] = b[i] * s * (1 + x * (1 - s));
    }
    std::vector<float> x(n);
    for (long i = 0; i < n; ++i) x[i] = a[i] * 8;
    dts::binary(dts::BinaryOp::SiluGrad, x.data(), n, b.data(), n, out.data(), n);
    expect_close("binary silu gradient", out, expected, 1e-6);
  }
  const char* unaryNames[] = {"square", "sqrt", "rsqrt", "neg", "sigmoid", "silu"};
  for (int op = 0; op < 6; ++op) {
    std::vector<float> x(n), out(n, NAN);
    std::vector<double> expected(n);
    for (long i = 0; i < n; ++i) {
      x[i] = op == 1 || op == 2 ? a[i] + 1.5f : a[i] * 12;
      const double v = x[i];
      const double values[] = {v * v, std::sqrt(v), 1 / std::sqrt(v), -v, sigmoid(v), v * sigmoid(v)};
      expected[i] = values[op];
    }
    dts::unary(static_cast<dts::UnaryOp>(op), x.data(), out.data(), n);
    expect_close(std::string("unary ") + unaryNames[op], out, expected, 1e-6);
  }
  for (bool overRows : {false, true}) {
    const long outer = 301, inner = 377;
    const auto x = random_values(outer * inner, 10);
    std::vector<float> out(overRows ? inner : outer, NAN);
    std::vector<double> expected(out.size(), 0.0);
    for (long o = 0; o < outer; ++o)
      for (long j = 0; j < inner; ++j) expected[overRows ? j : o] += x[o * inner + j];
    dts::reduce_sum(x.data(), out.data(), outer, inner, overRows);
    expect_close(overRows ? "reduce_sum over rows" : "reduce_sum along rows", out, expected, 1e-6);
  }
  {
    const auto c = random_values(n, 9);
    const float* inputs[] = {a.data(), b.data(), c.data()};
    std::vector<float> out(n, NAN);
    std::vector<double> expected(n);
    for (long i = 0; i < n; ++i) expected[i] = static_cast<double>(a[i]) + b[i] + c[i];
    dts::add_n(inputs, 3, out.data(), n);
    expect_close("add_n of 3", out, expected, 1e-6);
  }
  {
    const long batch = 3, pixels = 50, channels = 12, groups = 4, per = channels / groups;
    const auto x = random_values(batch * pixels * channels, 11), gamma = random_values(channels, 12), beta = random_values(channels, 13);
    std::vector<float> out(x.size(), NAN), centered(x.size(), NAN), inverse(batch * channels, NAN);
    std::vector<double> expected(x.size()), expectedCentered(x.size()), expectedInverse(batch * channels);
    for (long bi = 0; bi < batch; ++bi)
      for (long g = 0; g < groups; ++g) {
        double mean = 0, variance = 0;
        for (long p = 0; p < pixels; ++p)
          for (long c = g * per; c < (g + 1) * per; ++c) mean += x[(bi * pixels + p) * channels + c];
        mean /= pixels * per;
        for (long p = 0; p < pixels; ++p)
          for (long c = g * per; c < (g + 1) * per; ++c) variance += std::pow(x[(bi * pixels + p) * channels + c] - mean, 2);
        const double inv = 1 / std::sqrt(variance / (pixels * per) + 1e-5);
        for (long c = g * per; c < (g + 1) * per; ++c) {
          expectedInverse[bi * channels + c] = inv;
          for (long p = 0; p < pixels; ++p) {
            const long i = (bi * pixels + p) * channels + c;
            expectedCentered[i] = x[i] - mean;
            expected[i] = (x[i] - mean) * inv * gamma[c] + beta[c];
          }
        }
      }
    dts::group_norm(x.data(), gamma.data(), beta.data(), out.data(), centered.data(), inverse.data(), batch, pixels, channels,
                    groups, 1e-5);
    expect_close("group_norm output", out, expected, 1e-5);
    expect_close("group_norm centered", centered, expectedCentered, 1e-6);
    expect_close("group_norm inverse std", inverse, expectedInverse, 1e-5);
  }
  for (double decay : {0.0, 0.01}) {
    const auto w = a, g = b, m = random_values(n, 14);
    auto v = random_values(n, 15);
    for (float& value : v) value = value * value;
    const dts::AdamHyper h{1e-3, 0.9, 0.999, 1e-8, decay, 1 - std::pow(0.9, 3), 1 - std::pow(0.999, 3)};
    std::vector<float> outW(n, NAN), outM(n, NAN), outV(n, NAN);
    std::vector<double> expectedW(n), expectedM(n), expectedV(n);
    for (long i = 0; i < n; ++i) {
      expectedM[i] = h.beta1 * m[i] + (1 - h.beta1) * g[i];
      expectedV[i] = h.beta2 * v[i] + (1 - h.beta2) * g[i] * g[i];
      const double decayed = decay > 0 ? w[i] * (1 - h.learningRate * decay) : w[i];
      const double denominator = std::sqrt(expectedV[i]) / std::sqrt(h.correction2) + h.epsilon;
      expectedW[i] = decayed - h.learningRate / h.correction1 * expectedM[i] / denominator;
    }
    dts::adam_update(w.data(), g.data(), m.data(), v.data(), outW.data(), outM.data(), outV.data(), n, h);
    const std::string suffix = decay > 0 ? " with weight decay" : "";
    expect_close("adam_update variable" + suffix, outW, expectedW, 1e-6);
    expect_close("adam_update first moment" + suffix, outM, expectedM, 1e-6);
    expect_close("adam_update second moment" + suffix, outV, expectedV, 1e-6);
  }
}

// --- layout -----------------------------------------------------------------------------------

void test_layout() {
  {
    const long outer = 37;
    const long inner[] = {5, 1, 12};
    std::vector<std::vector<float>> parts;
    for (int i = 0; i < 3; ++i) parts.push_back(random_values(outer * inner[i], 20 + i));
    const float* inputs[] = {parts[0].data(), parts[1].data(), parts[2].data()};
    std::vector<float> out(outer * 18, NAN);
    std::vector<double> expected;
    for (long o = 0; o < outer; ++o)
      for (int i = 0; i < 3; ++i)
        for (long j = 0; j < inner[i]; ++j) expected.push_back(parts[i][o * inner[i] + j]);
    dts::concat_rows(out.data(), outer, 3, inputs, inner);
    expect_close("concat_rows", out, expected, 0);
  }
  const long shape[] = {3, 5, 4, 6};
  const auto in = random_values(3 * 5 * 4 * 6, 30);
  {
    const long begin[] = {1, 0, 1, 0}, size[] = {2, 5, 2, 6};
    std::vector<float> out(2 * 5 * 2 * 6, NAN);
    std::vector<double> expected;
    for (long i = 0; i < 2; ++i)
      for (long j = 0; j < 5; ++j)
        for (long k = 0; k < 2; ++k)
          for (long l = 0; l < 6; ++l) expected.push_back(in[(((i + 1) * 5 + j) * 4 + k + 1) * 6 + l]);
    dts::copy_slice(in.data(), out.data(), 4, shape, begin, size);
    expect_close("copy_slice", out, expected, 0);
  }
  {
    const long reps[] = {2, 1, 3, 2};
    std::vector<float> out(6 * 5 * 12 * 12, NAN);
    std::vector<double> expected;
    for (long i = 0; i < 6; ++i)
      for (long j = 0; j < 5; ++j)
        for (long k = 0; k < 12; ++k)
          for (long l = 0; l < 12; ++l) expected.push_back(in[(((i % 3) * 5 + j) * 4 + k % 4) * 6 + l % 6]);
    dts::tile(in.data(), out.data(), 4, shape, reps);
    expect_close("tile", out, expected, 0);
  }
}

// --- several host threads at once ------------------------------------------------------------

/**
 * Three threads run convolutions and matrix products (each on its own data) while the main thread
 * keeps changing the pool's thread count: every result must equal the one computed alone.
 */
void test_concurrency() {
  const ConvCase conv = conv_case("concurrent", 2, 12, 12, 16, 3, 3, 24, 1, 1, 1);
  const GemmCase gemm{2, 64, 96, 80, false, true, false, false, true};
  const ConvData data = conv_data(conv.s, 500);
  std::vector<float> expectedY(data.dy.size()), expectedDw(data.w.size());
  dts::conv2d(conv.s, data.x.data(), data.w.data(), data.bias.data(), expectedY.data());
  dts::conv2d_backprop_filter(conv.s, data.x.data(), data.dy.data(), expectedDw.data());
  const std::vector<float> expectedC = run_gemm(gemm, 600);
  std::vector<int> mismatches(3, 0);
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back([&, t] {
      std::vector<float> y(expectedY.size()), dw(expectedDw.size());
      for (int round = 0; round < 12; ++round) {
        dts::conv2d(conv.s, data.x.data(), data.w.data(), data.bias.data(), y.data());
        dts::conv2d_backprop_filter(conv.s, data.x.data(), data.dy.data(), dw.data());
        const std::vector<float> c = run_gemm(gemm, 600);
        // Different thread counts sum in a different order: compare with a float tolerance.
        auto differs = [](const std::vector<float>& p, const std::vector<float>& q) {
          for (std::size_t i = 0; i < p.size(); ++i)
            if (std::fabs(p[i] - q[i]) > 1e-4f) return true;
          return false;
        };
        if (differs(y, expectedY) || differs(dw, expectedDw) || differs(c, expectedC)) ++mismatches[t];
      }
    });
  }
  for (int round = 0; round < 20; ++round) {
    dts::set_threads(1 + round % 4);
    std::this_thread::yield();
  }
  for (auto& caller : callers) caller.join();
  for (int t = 0; t < 3; ++t) {
    ++checks;
    if (mismatches[t] != 0) {
      ++failures;
      std::printf("FAIL concurrent caller %d: %d of 12 rounds differ\n", t, mismatches[t]);
    }
  }
}

/** A task that throws stops the job, and the caller gets the failure, once every worker is idle. */
void test_pool_failures() {
  dts::ThreadPool pool(3);
  auto expect_throw = [&](const char* what, auto fail, auto check) {
    ++checks;
    try {
      pool.run(64, [&](int task, int) {
        if (task == 5) fail();
      });
    } catch (const std::exception& error) {
      if (check(error)) return;
    }
    ++failures;
    std::printf("FAIL thread pool: %s was not passed to the caller\n", what);
  };
  expect_throw("std::bad_alloc", [] { throw std::bad_alloc(); },
               [](const std::exception& error) { return dynamic_cast<const std::bad_alloc*>(&error) != nullptr; });
  expect_throw("a std::runtime_error", [] { throw std::runtime_error("task 5 failed"); },
               [](const std::exception& error) { return std::string(error.what()) == "task 5 failed"; });
  // The pool still runs jobs afterwards.
  std::vector<int> ran(100, 0);
  pool.run(100, [&](int task, int) { ran[task] += 1; });
  ++checks;
  for (int count : ran) {
    if (count != 1) {
      ++failures;
      std::printf("FAIL thread pool: a job after a failure did not run every task once\n");
      break;
    }
  }
}

}  // namespace

int main() {
  std::printf("kernels-test: GEMM %s, %d threads\n", dts::gemm_isa(), dts::thread_count());
  for (int threads : {1, 3}) {
    dts::set_threads(threads);
    test_gemm();
    test_conv();
    test_pointwise();
    test_layout();
  }
  test_concurrency();
  test_pool_failures();
  std::printf("kernels-test: %d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
