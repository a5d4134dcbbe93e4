/**
 * Backend selection for Node scripts and the CLI: `wasm` (and `auto` without a GPU) starts tfjs'
 * threaded SIMD wasm build through core's `initWasmThreaded`, falling back to one thread, and
 * makes sure core's wasm training kernels are registered.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, initWasmThreaded, registerWasmTrainingKernels, type BackendName } from '@diffusion-ts/core';

/** The backend names the CLI accepts. */
export const CLI_BACKENDS = ['auto', 'wasm', 'cpu', 'webgpu', 'cuda'] as const;

/** One of `CLI_BACKENDS`. */
export type CliBackend = (typeof CLI_BACKENDS)[number];

/** What `initFastBackend` chose. */
export interface FastBackendReport {
  backend: BackendName;
  /** wasm threads (1 when the threaded build was not available). */
  threads?: number;
}

/**
 * Initialises `name` (default `wasm`, the fastest CPU backend) for sampling or training. `auto`
 * prefers webgpu / cuda when present, else threaded wasm.
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
  if (tf.findBackend('wasm') === null) {
    try {
      threadCount = (await initWasmThreaded(threads === undefined ? {} : { threads })).threads;
    } catch {
      threadCount = 1;
    }
  }
  const backend = await initBackend('wasm');
  registerWasmTrainingKernels();
  return { backend, threads: threadCount };
}
