/** What the model benchmarks share: the backends to run on, starting one, and the timing and memory figures. */
import { initBackend, useNativeKernels, type BackendName } from '@diffusion-ts/core';
import * as tf from '@tensorflow/tfjs-core';

/** A benchmark backend: a tfjs backend, or wasm with the native kernels. */
export type BenchBackend = BackendName | 'wasm+native';

/** The backends of `BENCH_BACKENDS` (default "wasm,wasm+native,cpu"). */
export const BENCH_BACKENDS = (process.env.BENCH_BACKENDS ?? 'wasm,wasm+native,cpu').split(',') as BenchBackend[];

/** Starts `item`; false (with a line saying why) where wasm+native is not available here. */
export async function startBenchBackend(item: BenchBackend): Promise<boolean> {
  await initBackend(item === 'wasm+native' ? 'wasm' : item);
  if (!item.startsWith('wasm')) return true;
  const status = await useNativeKernels(item === 'wasm+native');
  if (item === 'wasm+native' && !status.active) {
    console.log(`skipping wasm+native: ${status.reason}`);
    return false;
  }
  return true;
}

/** Best wall time in ms of `run` over `repeats` runs after one warm-up. */
export async function best(run: () => unknown, repeats: number): Promise<number> {
  await run();
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i += 1) {
    const started = performance.now();
    await run();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

/**
 * What a loaded model holds and how long loading takes: the tensor bytes and count of one load,
 * then the best of `repeats` loads (each disposed).
 */
export async function loadFigures(load: () => Promise<{ dispose(): void }>, repeats: number): Promise<{ ms: number; held: string }> {
  const bytesBefore = tf.memory().numBytes;
  const tensorsBefore = tf.memory().numTensors;
  const probe = await load();
  const held = `${((tf.memory().numBytes - bytesBefore) / 2 ** 20).toFixed(2)} MiB in ${tf.memory().numTensors - tensorsBefore} tensors`;
  probe.dispose();
  return { ms: await best(async () => (await load()).dispose(), repeats), held };
}
