// Measures this CPU's fp32 multiply-add throughput: independent FMA chains in the widest vectors
// the CPU has, on every worker thread at once. What a benchmark divides by to give "% of peak".
#pragma once

namespace dts {

/** GFLOP/s of back-to-back FMAs on `threads` threads for about `seconds` each. */
double measure_peak_gflops(int threads, double seconds);

}  // namespace dts
