import * as tf from '@tensorflow/tfjs-core';

/** The padding attribute of tfjs' conv kernels: a mode, one number, or explicit NHWC pairs. */
export type ConvPadding = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

/** Geometry of one 2-D NHWC convolution, as the gradient kernels need it. */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
}

/** Attributes shared by Conv2DBackpropFilter and Conv2DBackpropInput. */
export interface ConvGradientAttributes {
  strides: number | [number, number];
  pad: ConvPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * Resolves the convolution's geometry with tfjs' own rules (so padding matches every backend)
 * and rejects what these kernels do not handle: NCHW data and dilated filters.
 */
export function convGeometry(
  kernelName: string,
  inShape: readonly number[],
  filterShape: readonly number[],
  attributes: ConvGradientAttributes,
): ConvGeometry {
  const dataFormat = attributes.dataFormat ?? 'NHWC';
  if (dataFormat !== 'NHWC') {
    throw new Error(`${kernelName} (diffusion-ts wasm kernel): only NHWC data is supported, got ${dataFormat}`);
  }
  if (inShape.length !== 4 || filterShape.length !== 4) {
    throw new Error(
      `${kernelName} (diffusion-ts wasm kernel): expected rank-4 input and filter, got [${inShape.join(',')}] and [${filterShape.join(',')}]`,
    );
  }
  const info = tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attributes.strides,
    1,
    attributes.pad,
    attributes.dimRoundingMode,
    false,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padBottom: info.padInfo.bottom,
    padLeft: info.padInfo.left,
    padRight: info.padInfo.right,
  };
}

/**
 * Pads (positive amounts) or crops (negative amounts) the two spatial axes of an NHWC tensor.
 */
export function padOrCropSpatial(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  let result = x;
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    result = tf.pad(result, [
      [0, 0],
      [Math.max(top, 0), Math.max(bottom, 0)],
      [Math.max(left, 0), Math.max(right, 0)],
      [0, 0],
    ]);
  }
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = result.shape;
    const cropTop = Math.max(-top, 0);
    const cropLeft = Math.max(-left, 0);
    result = tf.slice(result, [0, cropTop, cropLeft, 0], [n, h - cropTop - Math.max(-bottom, 0), w - cropLeft - Math.max(-right, 0), c]);
  }
  return result;
}
