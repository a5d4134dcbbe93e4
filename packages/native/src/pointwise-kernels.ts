/**
 * Native elementwise kernels for tfjs' wasm backend: `Add`, `Sub`, `Multiply`, `RealDiv` (same
 * shapes, a scalar, or a trailing shape such as one value per channel), `Square`, `Sqrt`,
 * `Rsqrt`, `Neg`, `Sigmoid`, `Sum` over leading or trailing axes, `AddN`, an `Identity` (and
 * same-dtype `Cast`) that shares the input's data instead of copying it, and core's fused SiLU
 * and its gradient. Training runs thousands of these per step (gradients, GroupNorm, SiLU);
 * natively they use every core and the widest vectors.
 */
import * as tf from '@tensorflow/tfjs-core';

import { SILU_GRAD_KERNEL, SILU_KERNEL, type SiluGradInputs } from './fused-kernels.js';
import { asWasmBackend, elementOffset, isFloat32, runNative, sizeOf, type KernelArgs, type NativeKernel } from './wasm-heap.js';

const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 } as const;
const UNARY_OPS = { Square: 0, Sqrt: 1, Rsqrt: 2, Neg: 3, Sigmoid: 4, [SILU_KERNEL]: 5 } as const;

/**
 * Whether `shape` broadcast to `outShape` repeats with a period (so element i is input element
 * i mod size): it is `outShape`'s trailing dimensions, with only 1s before them.
 */
function periodic(shape: readonly number[], outShape: readonly number[]): boolean {
  const offset = outShape.length - shape.length;
  let trailing = true;
  for (let axis = outShape.length - 1; axis >= 0; axis -= 1) {
    const length = axis - offset >= 0 ? shape[axis - offset] : 1;
    if (trailing && length === outShape[axis]) continue;
    trailing = false;
    if (length !== 1) return false;
  }
  return true;
}

function binaryKernel(name: string, op: number): NativeKernel {
  return (args: KernelArgs) => {
    const backend = asWasmBackend(args.backend);
    const { a, b } = args.inputs;
    if (backend === undefined || !a || !b || a.dtype !== 'float32' || !isFloat32(b)) return undefined;
    let outShape: number[];
    try {
      outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    } catch {
      return undefined;
    }
    const n = sizeOf(outShape);
    const na = sizeOf(a.shape);
    const nb = sizeOf(b.shape);
    if (n === 0) return backend.makeOutput(outShape, 'float32');
    if (Math.max(na, nb) !== n || !periodic(a.shape, outShape) || !periodic(b.shape, outShape)) return undefined;
    const aOffset = elementOffset(backend, a);
    const bOffset = elementOffset(backend, b);
    if (aOffset === undefined || bOffset === undefined) return undefined;
    return runNative(name, backend, outShape, (addon, heap, out) => addon.binary(heap, op, aOffset, na, bOffset, nb, out, n));
  };
}

function unaryKernel(name: string, op: number): NativeKernel {
  return (args: KernelArgs) => {
    const backend = asWasmBackend(args.backend);
    const { x } = args.inputs;
    if (backend === undefined || !x || x.dtype !== 'float32') return undefined;
    const input = elementOffset(backend, x);
    if (input === undefined) return undefined;
    const n = sizeOf(x.shape);
    if (n === 0) return backend.makeOutput(x.shape.slice(), 'float32');
    return runNative(name, backend, x.shape.slice(), (addon, heap, out) => addon.unary(heap, op, input, out, n));
  };
}

/** `Sum` over a leading run of axes (the conv bias gradient) or a trailing one. */
function sumNative(args: KernelArgs): tf.TensorInfo | undefined {
  const backend = asWasmBackend(args.backend);
  const { x } = args.inputs;
  const { axis, keepDims } = (args.attrs ?? {}) as unknown as tf.SumAttrs;
  if (backend === undefined || !x || x.dtype !== 'float32' || x.shape.length === 0) return undefined;
  const rank = x.shape.length;
  const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((p, q) => p - q);
  if (axes.length === 0) return undefined;
  const leading = axes.every((value, index) => value === index);
  const trailing = axes.every((value, index) => value === rank - axes.length + index);
  if (!leading && !trailing) return undefined;
  const split = leading ? axes.length : rank - axes.length;
  const outer = sizeOf(x.shape.slice(0, split));
  const inner = sizeOf(x.shape.slice(split));
  const outShape = keepDims
    ? x.shape.map((length, index) => (axes.includes(index) ? 1 : length))
    : x.shape.filter((_, index) => !axes.includes(index));
  const input = elementOffset(backend, x);
  if (input === undefined || outer * inner === 0) return undefined;
  return runNative('Sum', backend, outShape, (addon, heap, out) => addon.reduceSum(heap, input, out, outer, inner, leading));
}

function addNNative(args: KernelArgs): tf.TensorInfo | undefined {
  const backend = asWasmBackend(args.backend);
  const inputs = Object.values(args.inputs).filter((input): input is tf.TensorInfo => input != null);
  if (backend === undefined || inputs.length === 0 || !inputs.every((input) => input.dtype === 'float32')) return undefined;
  const shape = inputs[0].shape;
  if (!inputs.every((input) => input.shape.length === shape.length && input.shape.every((length, axis) => length === shape[axis])))
    return undefined;
  const offsets = inputs.map((input) => elementOffset(backend, input));
  if (offsets.some((offset) => offset === undefined)) return undefined;
  const n = sizeOf(shape);
  if (n === 0) return backend.makeOutput(shape.slice(), 'float32');
  return runNative('AddN', backend, shape.slice(), (addon, heap, out) => addon.addN(heap, offsets as number[], out, n));
}

/** `Identity` without a copy: the output shares the input's data (tensors are immutable). */
function identityNative(args: KernelArgs): tf.TensorInfo | undefined {
  const backend = asWasmBackend(args.backend);
  const { x } = args.inputs;
  if (backend === undefined || !x) return undefined;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

/** `SILU_GRAD_KERNEL` in one pass: dy · s · (1 + x (1 - s)), s = sigmoid(x). */
function siluGradNative(args: KernelArgs): tf.TensorInfo | undefined {
  const backend = asWasmBackend(args.backend);
  const { x, dy } = args.inputs as Partial<SiluGradInputs<tf.TensorInfo>>;
  if (backend === undefined || !x || !dy || x.dtype !== 'float32' || dy.dtype !== 'float32') return undefined;
  const n = sizeOf(x.shape);
  if (sizeOf(dy.shape) !== n) return undefined;
  const xOffset = elementOffset(backend, x);
  const dyOffset = elementOffset(backend, dy);
  if (xOffset === undefined || dyOffset === undefined) return undefined;
  if (n === 0) return backend.makeOutput(x.shape.slice(), 'float32');
  return runNative(SILU_GRAD_KERNEL, backend, x.shape.slice(), (addon, heap, out) =>
    addon.binary(heap, 4, xOffset, n, dyOffset, n, out, n),
  );
}

/** `Cast` to the dtype a tensor already has: shared, like `Identity` (other casts: wasm's own kernel). */
function castNative(args: KernelArgs): tf.TensorInfo | undefined {
  const { x } = args.inputs;
  const { dtype } = (args.attrs ?? {}) as unknown as tf.CastAttrs;
  if (!x || x.dtype !== dtype) return undefined;
  return identityNative(args);
}

/** The elementwise kernels, by tfjs kernel name (undefined from one: run the previous kernel). */
export const POINTWISE_KERNELS: Readonly<Record<string, NativeKernel>> = {
  ...Object.fromEntries(Object.entries(BINARY_OPS).map(([name, op]) => [name, binaryKernel(name, op)])),
  ...Object.fromEntries(Object.entries(UNARY_OPS).map(([name, op]) => [name, unaryKernel(name, op)])),
  Sum: sumNative,
  AddN: addNNative,
  Identity: identityNative,
  Cast: castNative,
  [SILU_GRAD_KERNEL]: siluGradNative,
};
