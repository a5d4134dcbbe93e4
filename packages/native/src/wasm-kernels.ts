/**
 * The native convolution and matMul kernels for tfjs' wasm backend: `Conv2D`, `FusedConv2D`, `Conv2DBackpropInput`,
 * `Conv2DBackpropFilter`, `BatchMatMul` and `_FusedMatMul`, run by the addon directly on the wasm
 * heap (inputs are read and the output written in place; nothing is copied).
 *
 * Each kernel handles the common float32 NHWC cases and hands everything else (NCHW, fused
 * activations other than linear, PReLU weights, unusual bias or batch broadcasting, empty forward
 * inputs with non-empty outputs) to the kernel that was registered under its name before, unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';

import {
  asWasmBackend,
  elementOffset,
  isChannelBias,
  isFloat32,
  runNative,
  sizeOf,
  type KernelArgs,
  type NativeKernel,
} from './wasm-heap.js';

type Padding = tf.Conv2DAttrs['pad'];
type RoundingMode = tf.Conv2DAttrs['dimRoundingMode'];

/** tfjs' conv geometry (its own padding rules), or undefined when tfjs rejects it or we cannot run it. */
function convInfo(
  inShape: readonly number[],
  filterShape: readonly number[],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: Padding,
  dimRoundingMode: RoundingMode,
): tf.backend_util.Conv2DInfo | undefined {
  if (inShape.length !== 4 || filterShape.length !== 4 || inShape[3] !== filterShape[2]) return undefined;
  let info: tf.backend_util.Conv2DInfo;
  try {
    info = tf.backend_util.computeConv2DInfo(
      inShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      strides,
      dilations,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
  } catch {
    return undefined;
  }
  const geometry = [
    info.outHeight,
    info.outWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
  if (!geometry.every((value) => Number.isInteger(value) && value >= 0)) return undefined;
  if (info.strideHeight < 1 || info.strideWidth < 1 || info.dilationHeight < 1 || info.dilationWidth < 1) return undefined;
  return info;
}

/** The 15 geometry arguments the addon's conv functions take after the tensors. */
function convArguments(info: tf.backend_util.Conv2DInfo) {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outChannels,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.outHeight,
    info.outWidth,
  ] as const;
}

/** Conv2D and FusedConv2D (bias only): undefined when the previous kernel should run instead. */
function convForward(name: string, args: KernelArgs, bias: tf.TensorInfo | undefined): tf.TensorInfo | undefined {
  const backend = asWasmBackend(args.backend);
  const { x, filter } = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as Partial<tf.Conv2DAttrs>;
  if (backend === undefined || x === undefined || filter === undefined || !isFloat32(x, filter, bias)) return undefined;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || attrs.strides === undefined || attrs.pad === undefined) return undefined;
  const info = convInfo(x.shape, filter.shape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode);
  if (info === undefined) return undefined;
  const outShape = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (bias !== undefined && !isChannelBias(bias, info.outChannels, 4)) return undefined;
  if (sizeOf(outShape) === 0) return backend.makeOutput(outShape, 'float32');
  if (sizeOf(x.shape) === 0 || sizeOf(filter.shape) === 0) return undefined;
  const xOffset = elementOffset(backend, x);
  const filterOffset = elementOffset(backend, filter);
  const biasOffset = bias === undefined ? -1 : elementOffset(backend, bias);
  if (xOffset === undefined || filterOffset === undefined || biasOffset === undefined) return undefined;
  return runNative(name, backend, outShape, (addon, heap, yOffset) =>
    addon.conv2d(heap, xOffset, filterOffset, yOffset, biasOffset, ...convArguments(info)),
  );
}

function conv2dNative(args: KernelArgs): tf.TensorInfo | undefined {
  return convForward('Conv2D', args, undefined);
}

function fusedConv2dNative(args: KernelArgs): tf.TensorInfo | undefined {
  const { bias, preluActivationWeights } = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as Partial<tf.FusedConv2DAttrs>;
  if (preluActivationWeights != null || (attrs.activation ?? 'linear') !== 'linear') return undefined;
  return convForward('FusedConv2D', args, bias ?? undefined);
}

/**
 * The shared body of both conv gradients: the geometry of the forward convolution (input shape
 * and filter shape, one of them given as an attribute), `dy` checked against its output, and the
 * gradient (`resultShape`) computed from `operand` (the filter for dx, the input for dw) and `dy`.
 */
function convGradient(
  name: 'Conv2DBackpropInput' | 'Conv2DBackpropFilter',
  args: KernelArgs,
  operand: tf.TensorInfo | undefined,
  dy: tf.TensorInfo | undefined,
  shapes: (
    operand: tf.TensorInfo,
    attrs: Partial<tf.Conv2DBackpropInputAttrs & tf.Conv2DBackpropFilterAttrs>,
  ) => [number[], number[], number[]] | undefined,
): tf.TensorInfo | undefined {
  const backend = asWasmBackend(args.backend);
  const attrs = (args.attrs ?? {}) as unknown as Partial<tf.Conv2DBackpropInputAttrs & tf.Conv2DBackpropFilterAttrs>;
  if (backend === undefined || operand === undefined || dy === undefined || !isFloat32(operand, dy)) return undefined;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || attrs.strides === undefined || attrs.pad === undefined) return undefined;
  const resolved = shapes(operand, attrs);
  if (resolved === undefined) return undefined;
  const [inShape, filterShape, resultShape] = resolved;
  const info = convInfo(inShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  if (info === undefined) return undefined;
  if (!tf.util.arraysEqual(dy.shape, [info.batchSize, info.outHeight, info.outWidth, info.outChannels])) return undefined;
  if (sizeOf(resultShape) === 0) return backend.makeOutput(resultShape, 'float32');
  // An empty operand (a batch of 0, no output channels) has no heap memory; the addon reads
  // nothing from it and writes a zero gradient, so any offset will do.
  const operandOffset = sizeOf(operand.shape) === 0 ? 0 : elementOffset(backend, operand);
  const dyOffset = sizeOf(dy.shape) === 0 ? 0 : elementOffset(backend, dy);
  if (operandOffset === undefined || dyOffset === undefined) return undefined;
  return runNative(name, backend, resultShape, (addon, heap, resultOffset) =>
    name === 'Conv2DBackpropInput'
      ? addon.conv2dBackpropInput(heap, dyOffset, operandOffset, resultOffset, ...convArguments(info))
      : addon.conv2dBackpropFilter(heap, operandOffset, dyOffset, resultOffset, ...convArguments(info)),
  );
}

function conv2dBackpropInputNative(args: KernelArgs): tf.TensorInfo | undefined {
  const { dy, filter } = args.inputs;
  return convGradient('Conv2DBackpropInput', args, filter, dy, (operand, { inputShape }) =>
    inputShape === undefined ? undefined : [[...inputShape], operand.shape, [...inputShape]],
  );
}

function conv2dBackpropFilterNative(args: KernelArgs): tf.TensorInfo | undefined {
  const { x, dy } = args.inputs;
  return convGradient('Conv2DBackpropFilter', args, x, dy, (operand, { filterShape }) =>
    filterShape === undefined ? undefined : [operand.shape, [...filterShape], [...filterShape]],
  );
}

/**
 * BatchMatMul and _FusedMatMul (bias only), with tfjs' batch broadcasting where it is a plain
 * stride: both sides with the output's batch size, or one side with a batch of 1.
 */
function matMulNative(name: string, args: KernelArgs, bias: tf.TensorInfo | undefined): tf.TensorInfo | undefined {
  const backend = asWasmBackend(args.backend);
  const { a, b } = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as Partial<tf.BatchMatMulAttrs>;
  if (backend === undefined || a === undefined || b === undefined || !isFloat32(a, b, bias)) return undefined;
  const rankA = a.shape.length;
  const rankB = b.shape.length;
  if (rankA < 2 || rankB < 2) return undefined;
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const M = a.shape[transposeA ? rankA - 1 : rankA - 2];
  const K = a.shape[transposeA ? rankA - 2 : rankA - 1];
  const innerB = b.shape[transposeB ? rankB - 1 : rankB - 2];
  const N = b.shape[transposeB ? rankB - 2 : rankB - 1];
  if (K !== innerB) return undefined;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return undefined;
  }
  const batch = sizeOf(outer);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  // Equal sizes that broadcast mean equal shapes up to leading 1s: batch b of each side is batch b of the output.
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return undefined;
  const outShape = [...outer, M, N];
  if (bias !== undefined && !isChannelBias(bias, N, outShape.length)) return undefined;
  if (sizeOf(outShape) === 0) return backend.makeOutput(outShape, 'float32');
  if (K === 0) return undefined;
  const aOffset = elementOffset(backend, a);
  const bOffset = elementOffset(backend, b);
  const biasOffset = bias === undefined ? -1 : elementOffset(backend, bias);
  if (aOffset === undefined || bOffset === undefined || biasOffset === undefined) return undefined;
  const strideA = batchA === 1 ? 0 : M * K;
  const strideB = batchB === 1 ? 0 : K * N;
  return runNative(name, backend, outShape, (addon, heap, cOffset) =>
    addon.gemm(heap, batch, M, N, K, transposeA, transposeB, aOffset, bOffset, cOffset, strideA, strideB, M * N, biasOffset),
  );
}

function batchMatMulNative(args: KernelArgs): tf.TensorInfo | undefined {
  return matMulNative('BatchMatMul', args, undefined);
}

function fusedMatMulNative(args: KernelArgs): tf.TensorInfo | undefined {
  const { bias, preluActivationWeights } = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as Partial<tf._FusedMatMulAttrs>;
  if (preluActivationWeights != null || (attrs.activation ?? 'linear') !== 'linear') return undefined;
  return matMulNative('_FusedMatMul', args, bias ?? undefined);
}

/** The convolution and matMul kernels, by tfjs kernel name (undefined from one: run the previous kernel). */
export const CONV_AND_MATMUL_KERNELS: Readonly<Record<string, NativeKernel>> = {
  Conv2D: conv2dNative,
  FusedConv2D: fusedConv2dNative,
  Conv2DBackpropInput: conv2dBackpropInputNative,
  Conv2DBackpropFilter: conv2dBackpropFilterNative,
  BatchMatMul: batchMatMulNative,
  _FusedMatMul: fusedMatMulNative,
};
