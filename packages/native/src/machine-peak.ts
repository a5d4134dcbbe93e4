import { loadNativeAddon } from './addon.js';

/** What `measureMachinePeak` found. */
export interface MachinePeak {
  /** fp32 GFLOP/s of back-to-back FMAs on every thread at once. */
  gflops: number;
  /** The vectors used: the widest this CPU has. */
  isa: string;
  /** Threads measured together. */
  threads: number;
}

/**
 * This machine's fp32 peak, measured: independent FMA chains in the widest vectors the CPU has
 * (AVX-512, AVX2 or scalar) on `threads` threads at once (default: the addon's thread count),
 * best of three runs of `milliseconds` each. Benchmarks divide by it for "% of peak".
 */
export async function measureMachinePeak(threads?: number, milliseconds = 400): Promise<MachinePeak> {
  const addon = await loadNativeAddon();
  const count = threads ?? addon.info().threads;
  const gflops = Math.max(...[0, 1, 2].map(() => addon.measurePeak(count, milliseconds)));
  return { gflops, isa: addon.info().isa, threads: count };
}
