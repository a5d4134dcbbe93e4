import * as tf from '@tensorflow/tfjs-core';

import { conv2dBackpropFilterKernel } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputKernel } from './conv2d-backprop-input.js';
import { reassertNativeKernels } from '../native-kernels.js';
import { tileKernel } from './tile.js';
import { unsortedSegmentSumKernel } from './unsorted-segment-sum.js';

/** The kernels diffusion-ts registers for the wasm backend, by tfjs kernel name. */
const WASM_TRAINING_KERNELS: ReadonlyArray<{ kernelName: string; kernelFunc: tf.KernelFunc }> = [
  { kernelName: 'Conv2DBackpropFilter', kernelFunc: conv2dBackpropFilterKernel as tf.KernelFunc },
  { kernelName: 'Conv2DBackpropInput', kernelFunc: conv2dBackpropInputKernel as tf.KernelFunc },
  { kernelName: 'UnsortedSegmentSum', kernelFunc: unsortedSegmentSumKernel as tf.KernelFunc },
  { kernelName: 'Tile', kernelFunc: tileKernel as tf.KernelFunc },
];

/**
 * Registers the kernels that make training work, and run fast, on tfjs' wasm backend:
 * `Conv2DBackpropFilter` (missing from tfjs wasm), a `Conv2DBackpropInput` built on the fast
 * forward convolution (tfjs' own is about 10x slower than its forward pass) and
 * `UnsortedSegmentSum` (gather's gradient, missing) and a `Tile` built on concat (tfjs wasm's is
 * ~50x slower; `broadcastTo`, and with it core's `upsampleNearest`, runs on it). They replace tfjs' own kernels under these
 * names. Call it after `@tensorflow/tfjs-backend-wasm` has been imported (before or after
 * `setBackend('wasm')`): importing that package later would register its kernels over these.
 * When `@diffusion-ts/native`'s kernels are active they are put back on top. Idempotent. Returns false, registering nothing, while the wasm backend package is not loaded.
 */
export function registerWasmTrainingKernels(): boolean {
  // The wasm package registers its Conv2D with its other kernels; without it there is nothing to extend.
  if (tf.getKernel('Conv2D', 'wasm') === undefined) return false;
  for (const { kernelName, kernelFunc } of WASM_TRAINING_KERNELS) {
    const existing = tf.getKernel(kernelName, 'wasm');
    if (existing?.kernelFunc === kernelFunc) continue;
    if (existing !== undefined) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
  // The native kernels (when active) take over the conv gradients again, keeping these as their fallback.
  reassertNativeKernels();
  return true;
}

/** Whether `registerWasmTrainingKernels` is in effect (tfjs' wasm kernels have not replaced it). */
export function wasmTrainingKernelsRegistered(): boolean {
  return WASM_TRAINING_KERNELS.every(({ kernelName, kernelFunc }) => tf.getKernel(kernelName, 'wasm')?.kernelFunc === kernelFunc);
}

export { conv2dFilterGradient } from './conv2d-backprop-filter.js';
export { conv2dInputGradient } from './conv2d-backprop-input.js';
export { tileByConcat } from './tile.js';
export { unsortedSegmentSum } from './unsorted-segment-sum.js';
export { initWasmThreaded, type WasmThreadsOptions, type WasmThreadsReport } from './wasm-threads.js';
