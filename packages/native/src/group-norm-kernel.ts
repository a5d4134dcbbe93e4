/**
 * GroupNorm's forward pass as one native kernel: three passes over the activation (sums,
 * centring with the squared sums, the affine output) instead of about nine tfjs kernels.
 * `@diffusion-ts/core`'s `groupNormalize` runs it whenever it is registered for the active
 * backend, and keeps its closed-form gradient, which needs the centred input and 1/σ it returns.
 */
import type * as tf from '@tensorflow/tfjs-core';

import { GROUP_NORM_KERNEL, type GroupNormAttributes, type GroupNormInputs } from './fused-kernels.js';
import { asWasmBackend, elementOffset, runNativeOutputs, sizeOf, type KernelArgs, type NativeKernel } from './wasm-heap.js';

/** `GROUP_NORM_KERNEL` on the wasm heap. */
function groupNormNative(args: KernelArgs): tf.TensorInfo[] | undefined {
  const backend = asWasmBackend(args.backend);
  const { x, gamma, beta } = args.inputs as Partial<GroupNormInputs<tf.TensorInfo>>;
  const { groups, epsilon } = (args.attrs ?? {}) as unknown as GroupNormAttributes;
  if (backend === undefined || !x || !gamma || !beta || x.shape.length !== 3) return undefined;
  if (![x, gamma, beta].every((input) => input.dtype === 'float32')) return undefined;
  const [batch, pixels, channels] = x.shape as [number, number, number];
  if (
    sizeOf(gamma.shape) !== channels ||
    sizeOf(beta.shape) !== channels ||
    !Number.isInteger(groups) ||
    groups < 1 ||
    channels % groups !== 0
  ) {
    return undefined;
  }
  const offsets = [x, gamma, beta].map((input) => elementOffset(backend, input));
  if (offsets.some((offset) => offset === undefined)) return undefined;
  const [input, scale, shift] = offsets as number[];
  return runNativeOutputs(
    GROUP_NORM_KERNEL,
    backend,
    [x.shape.slice(), x.shape.slice(), [batch, 1, channels]],
    (native, heap, [out, centered, inverseStd]) =>
      native.groupNorm(heap, input, scale, shift, out, centered, inverseStd, batch, pixels, channels, groups, epsilon),
  );
}

/** The GroupNorm kernel, by kernel name. */
export const GROUP_NORM_KERNELS: Readonly<Record<string, NativeKernel>> = {
  [GROUP_NORM_KERNEL]: groupNormNative,
};
