import * as tf from '@tensorflow/tfjs-core';

import { convGeometry, padOrCropSpatial, type ConvGeometry, type ConvGradientAttributes } from './conv-geometry.js';
import { composeKernel } from './kernel-tensors.js';

/** Attributes tfjs passes to `Conv2DBackpropFilter`. */
interface FilterGradientAttributes extends ConvGradientAttributes {
  filterShape: [number, number, number, number];
}

/**
 * The weight gradient of a 2-D convolution as im2col + one matrix product: every filter tap's
 * (strided) window of the padded input is laid side by side as `[positions, taps * inChannels]`,
 * and `patchesᵀ · dy` is `[taps * inChannels, outChannels]`, the HWIO filter gradient. The product
 * runs on the backend's fast matMul, so the gradient costs about one forward convolution.
 */
export function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, geometry: ConvGeometry): tf.Tensor4D {
  const { batch, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth } = geometry;
  const { strideHeight, strideWidth, padTop, padLeft, inHeight, inWidth } = geometry;
  const positions = batch * outHeight * outWidth;
  const dyRows = tf.reshape(dy, [positions, outChannels]);
  const spanHeight = (outHeight - 1) * strideHeight + 1;
  const spanWidth = (outWidth - 1) * strideWidth + 1;
  const neededHeight = spanHeight + filterHeight - 1;
  const neededWidth = spanWidth + filterWidth - 1;
  const padded = padOrCropSpatial(
    x,
    padTop,
    neededHeight - inHeight - padTop,
    padLeft,
    neededWidth - inWidth - padLeft,
  );
  const taps: tf.Tensor4D[] = [];
  for (let row = 0; row < filterHeight; row++) {
    for (let column = 0; column < filterWidth; column++) {
      taps.push(window(padded, row, column, geometry, spanHeight, spanWidth));
    }
  }
  const patches = taps.length === 1 ? taps[0]! : tf.concat(taps, 3);
  const patchRows = tf.reshape(patches, [positions, filterHeight * filterWidth * inChannels]);
  const gradient = tf.matMul(patchRows, dyRows, true, false);
  return tf.reshape(gradient, [filterHeight, filterWidth, inChannels, outChannels]);
}

/** The input values filter tap (row, column) meets at every output position. */
function window(
  padded: tf.Tensor4D,
  row: number,
  column: number,
  geometry: ConvGeometry,
  spanHeight: number,
  spanWidth: number,
): tf.Tensor4D {
  const { batch, inChannels, strideHeight, strideWidth } = geometry;
  const whole =
    row === 0 &&
    column === 0 &&
    padded.shape[1] === spanHeight &&
    padded.shape[2] === spanWidth;
  if (strideHeight === 1 && strideWidth === 1) {
    return whole ? padded : tf.slice(padded, [0, row, column, 0], [batch, spanHeight, spanWidth, inChannels]);
  }
  return tf.stridedSlice(
    padded,
    [0, row, column, 0],
    [batch, row + spanHeight, column + spanWidth, inChannels],
    [1, strideHeight, strideWidth, 1],
  ) as tf.Tensor4D;
}

/** Kernel function for `Conv2DBackpropFilter` on backends that lack one (wasm). */
export function conv2dBackpropFilterKernel({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attributes = attrs as unknown as FilterGradientAttributes;
  const geometry = convGeometry('Conv2DBackpropFilter', x.shape, attributes.filterShape, attributes);
  return composeKernel(backend, [x, dy], (xTensor, dyTensor) =>
    conv2dFilterGradient(xTensor as tf.Tensor4D, dyTensor as tf.Tensor4D, geometry),
  );
}
