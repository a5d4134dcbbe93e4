import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as core from '@diffusion-ts/core';

/** The backend the demo ended up on, and why it is not WebGPU when it is not. */
export interface DemoBackend {
  name: string;
  note: string;
}

/** Which backend the page asks for: `?backend=wasm|webgpu|cpu`, else WebGPU when available. */
export function requestedBackend(search: string): 'auto' | 'webgpu' | 'wasm' | 'cpu' {
  const value = new URLSearchParams(search).get('backend');
  return value === 'webgpu' || value === 'wasm' || value === 'cpu' ? value : 'auto';
}

/** WebGPU through core's `initBackend`; with no adapter (or on failure) falls back to wasm. */
async function tryWebGpu(): Promise<DemoBackend | string> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'navigator.gpu is not available in this browser';
  try {
    if ((await gpu.requestAdapter()) === null) return 'navigator.gpu exists but gave no adapter';
  } catch (error) {
    return `navigator.gpu.requestAdapter() failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  try {
    return { name: await core.initBackend('webgpu'), note: '' };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!/not supported/i.test(message)) return `WebGPU failed to start: ${message}`;
  }
  // This core version's initBackend has no webgpu yet: start tfjs' WebGPU backend directly.
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) return 'tfjs could not start its WebGPU backend';
    await tf.ready();
    return { name: 'webgpu', note: "started directly: this @diffusion-ts/core's initBackend has no webgpu yet" };
  } catch (error) {
    return `WebGPU failed to start: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * Starts a tfjs backend for the demo. The wasm binaries are served from `wasmBase` (the build
 * copies them from @tensorflow/tfjs-backend-wasm/dist into public/tfjs-wasm/).
 */
export async function startBackend(requested: ReturnType<typeof requestedBackend>, wasmBase: string): Promise<DemoBackend> {
  setWasmPaths(wasmBase);
  let note = '';
  if (requested === 'auto' || requested === 'webgpu') {
    const webgpu = await tryWebGpu();
    if (typeof webgpu !== 'string') return webgpu;
    note = webgpu;
  }
  const name = requested === 'cpu' ? 'cpu' : 'wasm';
  await core.initBackend(name);
  if (tf.getBackend() !== name) throw new Error(`backend ${name} did not start (tfjs reports ${tf.getBackend()})`);
  return { name, note: note ? `${note}; using wasm` : '' };
}
