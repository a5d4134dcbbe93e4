/**
 * Native kernels that only move data: `Concat`, `Slice`, `SplitV` and `Tile` (4-byte elements:
 * float32 and int32), multi-threaded copies of contiguous runs. The UNet's skip connections
 * concatenate along channels, their gradients split them again, and nearest upsampling tiles.
 */
import * as tf from '@tensorflow/tfjs-core';

import { loadedNativeAddon } from './addon.js';
import { asWasmBackend, elementOffset, runNative, sizeOf, type KernelArgs, type NativeKernel, type WasmBackend } from './wasm-heap.js';

/** The most dimensions the addon's slice and tile take. */
const MAX_RANK = 8;

type CopyDtype = 'float32' | 'int32';

function copyDtype(...infos: tf.TensorInfo[]): CopyDtype | undefined {
  const dtype = infos[0]?.dtype;
  if (dtype !== 'float32' && dtype !== 'int32') return undefined;
  return infos.every((info) => info.dtype === dtype) ? dtype : undefined;
}

function concatNative(args: KernelArgs): tf.TensorInfo | undefined {
  const backend = asWasmBackend(args.backend);
  const inputs = Object.values(args.inputs).filter((input): input is tf.TensorInfo => input != null);
  const { axis } = (args.attrs ?? {}) as unknown as tf.ConcatAttrs;
  if (backend === undefined || inputs.length === 0) return undefined;
  const dtype = copyDtype(...inputs);
  if (dtype === undefined) return undefined;
  const rank = inputs[0].shape.length;
  if (rank === 0 || inputs.some((input) => input.shape.length !== rank)) return undefined;
  const along = tf.util.parseAxisParam(axis, inputs[0].shape)[0];
  const outShape = tf.backend_util.computeOutShape(
    inputs.map((input) => input.shape),
    along,
  );
  const outer = sizeOf(outShape.slice(0, along));
  const parts = inputs.filter((input) => sizeOf(input.shape) > 0);
  const offsets = parts.map((input) => elementOffset(backend, input));
  if (offsets.some((offset) => offset === undefined)) return undefined;
  const inner = parts.map((input) => sizeOf(input.shape.slice(along)));
  if (sizeOf(outShape) === 0) return backend.makeOutput(outShape, dtype);
  return runNative('Concat', backend, outShape, (addon, heap, out) => addon.concat(heap, out, outer, offsets as number[], inner), dtype);
}

/** Copies the box [begin, begin + size) of `x` into a new tensor. */
function sliceInto(name: string, backend: WasmBackend, x: tf.TensorInfo, begin: number[], size: number[], dtype: CopyDtype) {
  const input = elementOffset(backend, x);
  if (input === undefined) return undefined;
  if (sizeOf(size) === 0) return backend.makeOutput(size, dtype);
  return runNative(name, backend, size, (addon, heap, out) => addon.slice(heap, input, out, x.shape, begin, size), dtype);
}

function sliceNative(args: KernelArgs): tf.TensorInfo | undefined {
  const backend = asWasmBackend(args.backend);
  const { x } = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as tf.SliceAttrs;
  if (backend === undefined || x == null || x.shape.length > MAX_RANK) return undefined;
  const dtype = copyDtype(x);
  if (dtype === undefined) return undefined;
  const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin, attrs.size);
  return sliceInto('Slice', backend, x, begin, size, dtype);
}

function splitVNative(args: KernelArgs): tf.TensorInfo[] | undefined {
  const backend = asWasmBackend(args.backend);
  const { x } = args.inputs;
  const { numOrSizeSplits, axis } = (args.attrs ?? {}) as unknown as tf.SplitVAttrs;
  if (backend === undefined || x == null || x.shape.length === 0 || x.shape.length > MAX_RANK) return undefined;
  const dtype = copyDtype(x);
  if (dtype === undefined || loadedNativeAddon() === undefined) return undefined;
  const along = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, along);
  const begin = new Array<number>(x.shape.length).fill(0);
  const outputs: tf.TensorInfo[] = [];
  try {
    for (const length of sizes) {
      const size = x.shape.slice();
      size[along] = length;
      const output = sliceInto('SplitV', backend, x, begin.slice(), size, dtype);
      if (output === undefined) throw new Error('SplitV (@diffusion-ts/native): the input has no heap offset');
      outputs.push(output);
      begin[along] += length;
    }
  } catch (error) {
    for (const output of outputs) backend.disposeData(output.dataId);
    throw error;
  }
  return outputs;
}

function tileNative(args: KernelArgs): tf.TensorInfo | undefined {
  const backend = asWasmBackend(args.backend);
  const { x } = args.inputs;
  const { reps } = (args.attrs ?? {}) as unknown as tf.TileAttrs;
  if (backend === undefined || x == null || x.shape.length > MAX_RANK || reps.length !== x.shape.length) return undefined;
  const dtype = copyDtype(x);
  const input = elementOffset(backend, x);
  if (dtype === undefined || input === undefined) return undefined;
  const outShape = x.shape.map((length, axis) => length * reps[axis]);
  if (sizeOf(outShape) === 0) return backend.makeOutput(outShape, dtype);
  return runNative('Tile', backend, outShape, (addon, heap, out) => addon.tile(heap, input, out, x.shape, reps), dtype);
}

/** The data-movement kernels, by tfjs kernel name (undefined from one: run the previous kernel). */
export const LAYOUT_KERNELS: Readonly<Record<string, NativeKernel>> = {
  Concat: concatNative,
  Slice: sliceNative,
  SplitV: splitVNative,
  Tile: tileNative,
};
