/**
 * The fused AdamW update as a wasm kernel: one native pass over a variable, its gradient and its
 * two moments instead of about a dozen tfjs kernels (each a pass over memory and an allocation).
 * `@diffusion-ts/core`'s `adamWUpdate` runs it whenever it is registered for the active backend.
 */
import * as tf from '@tensorflow/tfjs-core';

import { ADAMW_UPDATE_KERNEL, type AdamWUpdateAttributes, type AdamWUpdateInputs } from './fused-kernels.js';
import { asWasmBackend, elementOffset, runNativeOutputs, sizeOf, type KernelArgs, type NativeKernel } from './wasm-heap.js';

function adamWUpdateNative(args: KernelArgs): tf.TensorInfo[] | undefined {
  const backend = asWasmBackend(args.backend);
  const { variable, gradient, firstMoment, secondMoment } = args.inputs as Partial<AdamWUpdateInputs<tf.TensorInfo>>;
  // The addon rounds the float64 attributes to float32, like tfjs' scalars.
  const attributes = args.attrs as unknown as AdamWUpdateAttributes;
  if (backend === undefined || !variable || !gradient || !firstMoment || !secondMoment) return undefined;
  const inputs = [variable, gradient, firstMoment, secondMoment];
  if (!inputs.every((input) => input.dtype === 'float32' && tf.util.arraysEqual(input.shape, variable.shape))) return undefined;
  const offsets = inputs.map((input) => elementOffset(backend, input));
  if (offsets.some((offset) => offset === undefined)) return undefined;
  const [w, g, m, v] = offsets as number[];
  const { learningRate, beta1, beta2, epsilon, weightDecay, correction1, correction2 } = attributes;
  const shape = variable.shape.slice();
  return runNativeOutputs(ADAMW_UPDATE_KERNEL, backend, [shape, shape, shape], (native, heap, [outW, outM, outV]) =>
    native.adamUpdate(
      heap,
      w,
      g,
      m,
      v,
      outW,
      outM,
      outV,
      sizeOf(shape),
      learningRate,
      beta1,
      beta2,
      epsilon,
      weightDecay,
      correction1,
      correction2,
    ),
  );
}

/** The optimizer kernels, by kernel name. */
export const OPTIMIZER_KERNELS: Readonly<Record<string, NativeKernel>> = {
  [ADAMW_UPDATE_KERNEL]: adamWUpdateNative,
};
