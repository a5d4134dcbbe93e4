/**
 * Backend selection for Node scripts and the CLI: `wasm` (and `auto` without a GPU) runs with
 * `@diffusion-ts/native`'s kernels on every core when that package is built, else starts tfjs'
 * threaded SIMD wasm build through core's `initWasmThreaded`, falling back to one thread; either
 * way core's wasm training kernels are registered.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  initBackend,
  initWasmThreaded,
  nativeKernelsStatus,
  probeNativeKernels,
  registerWasmTrainingKernels,
  setNativeThreads,
  type BackendName,
} from '@diffusion-ts/core';

/** The backend names the CLI accepts. */
export const CLI_BACKENDS = ['auto', 'wasm', 'cpu', 'webgpu', 'cuda'] as const;

/** One of `CLI_BACKENDS`. */
export type CliBackend = (typeof CLI_BACKENDS)[number];

/** What `initFastBackend` chose. */
export interface FastBackendReport {
  backend: BackendName;
  /** wasm threads (1 when the threaded build was not available), or the native kernels' threads. */
  threads?: number;
  /** The native kernels' instruction set when they run the convolutions and matMuls. */
  native?: string;
}

/**
 * Initialises `name` (default `wasm`, the fastest CPU backend) for sampling or training. `auto`
 * prefers webgpu / cuda when present, else threaded wasm. `threads: 1` uses the single-threaded
 * wasm build, which is faster when the CPU cores are busy with other work (the thread pool
 * spin-waits on oversubscribed cores); without `threads`, one thread is chosen when the load
 * average already fills every core.
 */
export async function initFastBackend(name: CliBackend = 'wasm', threads?: number): Promise<FastBackendReport> {
  if (!(CLI_BACKENDS as readonly string[]).includes(name)) {
    throw new Error(`unknown backend '${String(name)}' (expected one of ${CLI_BACKENDS.join(', ')})`);
  }
  let chosen: BackendName | 'auto' = name;
  if (name === 'auto') {
    const picked = await initBackend('auto');
    if (picked !== 'wasm' && picked !== 'cpu') return { backend: picked };
    chosen = 'wasm';
  }
  if (chosen !== 'wasm') return { backend: await initBackend(chosen) };
  let threadCount = 1;
  const wanted = threads ?? ((await busyMachine()) ? 1 : undefined);
  const native = await probeNativeKernels();
  if (native.isa !== undefined) {
    // The heavy kernels run natively on their own threads; wasm keeps one thread for the rest.
    await setNativeThreads(wanted ?? (await logicalCpus()));
    const backend = await initBackend('wasm');
    registerWasmTrainingKernels();
    return { backend, threads: nativeKernelsStatus().threads ?? 1, native: native.isa };
  }
  if (tf.findBackend('wasm') === null && wanted !== 1) {
    try {
      threadCount = (await initWasmThreaded(wanted === undefined ? {} : { threads: wanted })).threads;
    } catch {
      threadCount = 1;
    }
  }
  const backend = await initBackend('wasm');
  registerWasmTrainingKernels();
  return { backend, threads: threadCount };
}

/** "wasm (native avx512, 2 threads)", "wasm (2 threads)", "webgpu": a report for people. */
export function describeBackend(report: FastBackendReport): string {
  const parts = [report.native ? `native ${report.native}` : undefined, report.threads ? `${report.threads} threads` : undefined];
  const detail = parts.filter((part) => part !== undefined).join(', ');
  return detail ? `${report.backend} (${detail})` : report.backend;
}

/** Logical CPUs, at most 8 (Node only). */
async function logicalCpus(): Promise<number> {
  const os = await import('node:os');
  return Math.max(1, Math.min(8, os.cpus().length));
}

/** Whether the 1-minute load average is at least the number of logical CPUs (Node only). */
async function busyMachine(): Promise<boolean> {
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string') return false;
  const os = await import('node:os');
  return os.loadavg()[0] >= os.cpus().length;
}
