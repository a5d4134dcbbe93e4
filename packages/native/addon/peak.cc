#include "peak.h"

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define DTS_X86 1
#endif

namespace dts {

namespace {

using Clock = std::chrono::steady_clock;

// 12 independent accumulators hide the FMA latency on two FMA ports; returns flops done.
#define DTS_PEAK_LOOP(NAME, TARGET, VEC, W, SET1, FMA, FIRST)                                   \
  __attribute__((target(TARGET))) double NAME(long steps, float* sink) {                       \
    VEC a0 = SET1(0.1f), a1 = SET1(0.2f), a2 = SET1(0.3f), a3 = SET1(0.4f), a4 = SET1(0.5f);    \
    VEC a5 = SET1(0.6f), a6 = SET1(0.7f), a7 = SET1(0.8f), a8 = SET1(0.9f), a9 = SET1(1.0f);    \
    VEC a10 = SET1(1.1f), a11 = SET1(1.2f);                                                     \
    const VEC b = SET1(0.999f), c = SET1(0.001f);                                               \
    for (long s = 0; s < steps; ++s) {                                                          \
      a0 = FMA(a0, b, c), a1 = FMA(a1, b, c), a2 = FMA(a2, b, c), a3 = FMA(a3, b, c);           \
      a4 = FMA(a4, b, c), a5 = FMA(a5, b, c), a6 = FMA(a6, b, c), a7 = FMA(a7, b, c);           \
      a8 = FMA(a8, b, c), a9 = FMA(a9, b, c), a10 = FMA(a10, b, c), a11 = FMA(a11, b, c);       \
    }                                                                                           \
    *sink = FIRST(a0) + FIRST(a1) + FIRST(a2) + FIRST(a3) + FIRST(a4) + FIRST(a5) + FIRST(a6) + \
            FIRST(a7) + FIRST(a8) + FIRST(a9) + FIRST(a10) + FIRST(a11);                        \
    return static_cast<double>(steps) * 12 * W * 2;                                             \
  }

#ifdef DTS_X86
DTS_PEAK_LOOP(peak_avx512, "avx512f", __m512, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_cvtss_f32)
DTS_PEAK_LOOP(peak_avx2, "avx2,fma", __m256, 8, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_cvtss_f32)
#endif

double peak_scalar(long steps, float* sink) {
  float a[12];
  for (int i = 0; i < 12; ++i) a[i] = 0.1f * (i + 1);
  for (long s = 0; s < steps; ++s) {
    for (int i = 0; i < 12; ++i) a[i] = a[i] * 0.999f + 0.001f;
  }
  float sum = 0;
  for (float v : a) sum += v;
  *sink = sum;
  return static_cast<double>(steps) * 12 * 2;
}

using PeakLoop = double (*)(long, float*);

PeakLoop widest() {
#ifdef DTS_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return peak_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return peak_avx2;
#endif
  return peak_scalar;
}

/** Runs the loop in rounds until `seconds` have passed; returns flops per second. */
double rate(PeakLoop loop, double seconds) {
  float sink = 0;
  double flops = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    flops += loop(1 << 20, &sink);
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  volatile float keep = sink;
  (void)keep;
  return flops / elapsed;
}

}  // namespace

double measure_peak_gflops(int threads, double seconds) {
  const PeakLoop loop = widest();
  std::vector<double> rates(threads, 0.0);
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back([&, t] { rates[t] = rate(loop, seconds); });
  rates[0] = rate(loop, seconds);
  for (auto& worker : workers) worker.join();
  double total = 0;
  for (double r : rates) total += r;
  return total / 1e9;
}

}  // namespace dts
