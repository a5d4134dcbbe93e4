/**
 * Registering the 27 native kernels (convolutions and matMuls, elementwise ops, copies, and the
 * fused SiLU, GroupNorm and AdamW kernels) over the wasm backend's own kernels, which stay as
 * their fallbacks, and taking them back.
 */
import * as tf from '@tensorflow/tfjs-core';

import { loadedNativeAddon } from './addon.js';
import { BACKEND, type NativeKernel } from './wasm-heap.js';
import { OPTIMIZER_KERNELS } from './adamw-kernel.js';
import { GROUP_NORM_KERNELS } from './group-norm-kernel.js';
import { LAYOUT_KERNELS } from './layout-kernels.js';
import { POINTWISE_KERNELS } from './pointwise-kernels.js';
import { CONV_AND_MATMUL_KERNELS } from './wasm-kernels.js';

/** The kernel configs that were registered under our names before ours (undefined: none was). */
const previousKernels = new Map<string, tf.KernelConfig | undefined>();

/** A kernel function that runs `native`, or the previous kernel when `native` declines. */
function withFallback(name: string, native: NativeKernel): tf.KernelFunc {
  return (args) => {
    const result = native(args);
    if (result !== undefined) return result;
    const previous = previousKernels.get(name);
    if (previous === undefined) {
      throw new Error(
        `${name} (@diffusion-ts/native): this case is not handled natively and no other wasm kernel was registered to fall back to`,
      );
    }
    return previous.kernelFunc(args);
  };
}

/** Every native kernel set, merged. */
const KERNEL_SETS: ReadonlyArray<Readonly<Record<string, NativeKernel>>> = [
  CONV_AND_MATMUL_KERNELS,
  LAYOUT_KERNELS,
  POINTWISE_KERNELS,
  OPTIMIZER_KERNELS,
  GROUP_NORM_KERNELS,
];

/** Our kernel functions by tfjs kernel name; their identity tells ours apart from others. */
const NATIVE_KERNELS: ReadonlyMap<string, tf.KernelFunc> = new Map(
  KERNEL_SETS.flatMap((set) => Object.entries(set)).map(([name, native]) => [name, withFallback(name, native)] as const),
);

/** The names of the native kernels. */
export function nativeKernelNames(): string[] {
  return [...NATIVE_KERNELS.keys()];
}

/**
 * Registers the native kernels for the wasm backend over the ones registered now, which are kept
 * as their fallbacks (and restored by `unregisterNativeWasmKernels`). Idempotent; when another
 * kernel has replaced one of ours since, that one becomes its fallback.
 */
export function registerNativeWasmKernels(): boolean {
  if (tf.getKernel('Conv2D', BACKEND) === undefined || loadedNativeAddon() === undefined) return false;
  for (const [kernelName, kernelFunc] of NATIVE_KERNELS) {
    const existing = tf.getKernel(kernelName, BACKEND);
    if (existing?.kernelFunc === kernelFunc) continue;
    previousKernels.set(kernelName, existing);
    if (existing !== undefined) tf.unregisterKernel(kernelName, BACKEND);
    // The previous kernel's setupFunc/disposeFunc stay: tfjs runs them when the backend starts, and the fallback needs them.
    tf.registerKernel({ ...existing, kernelName, backendName: BACKEND, kernelFunc });
  }
  return true;
}

/** Whether every native kernel is the one registered for the wasm backend now. */
export function nativeWasmKernelsRegistered(): boolean {
  for (const [kernelName, kernelFunc] of NATIVE_KERNELS) {
    if (tf.getKernel(kernelName, BACKEND)?.kernelFunc !== kernelFunc) return false;
  }
  return true;
}

/**
 * Puts back the kernels that were registered before `registerNativeWasmKernels` (or removes ours
 * where there was none). Kernels that have replaced ours since are left alone. Idempotent.
 */
export function unregisterNativeWasmKernels(): void {
  for (const [kernelName, kernelFunc] of NATIVE_KERNELS) {
    if (tf.getKernel(kernelName, BACKEND)?.kernelFunc !== kernelFunc) continue;
    tf.unregisterKernel(kernelName, BACKEND);
    const previous = previousKernels.get(kernelName);
    if (previous !== undefined) tf.registerKernel(previous);
  }
  previousKernels.clear();
}
