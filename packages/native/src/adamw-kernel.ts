/**
 * The fused AdamW update as a wasm kernel: one native pass over a variable, its gradient and its
 * two moments instead of about a dozen tfjs kernels (each a pass over memory and an allocation).
 * `@diffusion-ts/core`'s `adamWUpdate` runs it whenever it is registered for the active backend.
 */
import type * as tf from '@tensorflow/tfjs-core';

import { loadedNativeAddon } from './addon.js';
import { asWasmBackend, countNativeCall, elementOffset, heapOf, sameShape, sizeOf, type KernelArgs, type NativeKernel } from './wasm-heap.js';

/** The kernel name core's `adamWUpdate` looks for (its `ADAMW_UPDATE_KERNEL`). */
export const ADAMW_UPDATE_KERNEL = 'DiffusionTsAdamWUpdate';

/** The attributes core passes (float64; the addon rounds them to float32 like tfjs' scalars). */
interface AdamWUpdateAttributes {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  correction1: number;
  correction2: number;
}

function adamWUpdateNative(args: KernelArgs): tf.TensorInfo[] | undefined {
  const backend = asWasmBackend(args.backend);
  const addon = loadedNativeAddon();
  const { variable, gradient, firstMoment, secondMoment } = args.inputs;
  const attributes = args.attrs as unknown as AdamWUpdateAttributes;
  if (backend === undefined || addon === undefined || !variable || !gradient || !firstMoment || !secondMoment) return undefined;
  const inputs = [variable, gradient, firstMoment, secondMoment];
  if (!inputs.every((input) => input.dtype === 'float32' && sameShape(input.shape, variable.shape))) return undefined;
  const offsets = inputs.map((input) => elementOffset(backend, input));
  if (offsets.some((offset) => offset === undefined)) return undefined;
  const outputs = [0, 1, 2].map(() => backend.makeOutput(variable.shape.slice(), 'float32'));
  try {
    const [w, g, m, v] = offsets as number[];
    const [outW, outM, outV] = outputs.map((output) => elementOffset(backend, output));
    if (outW === undefined || outM === undefined || outV === undefined) throw new Error(`${ADAMW_UPDATE_KERNEL}: an output has no heap offset`);
    const { learningRate, beta1, beta2, epsilon, weightDecay, correction1, correction2 } = attributes;
    addon.adamUpdate(heapOf(backend), w!, g!, m!, v!, outW, outM, outV, sizeOf(variable.shape), learningRate, beta1, beta2, epsilon, weightDecay, correction1, correction2);
  } catch (error) {
    for (const output of outputs) backend.disposeData(output.dataId);
    throw error;
  }
  countNativeCall(ADAMW_UPDATE_KERNEL);
  return outputs;
}

/** The optimizer kernels, by kernel name. */
export const OPTIMIZER_KERNELS: Readonly<Record<string, NativeKernel>> = {
  [ADAMW_UPDATE_KERNEL]: adamWUpdateNative,
};
