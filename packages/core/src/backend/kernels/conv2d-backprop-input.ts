import * as tf from '@tensorflow/tfjs-core';

import { convGeometry, padOrCropSpatial, type ConvGeometry, type ConvGradientAttributes } from './conv-geometry.js';
import { composeKernel } from './kernel-tensors.js';

/** Attributes tfjs passes to `Conv2DBackpropInput`. */
interface InputGradientAttributes extends ConvGradientAttributes {
  inputShape: [number, number, number, number];
}

/**
 * The input gradient of a 2-D convolution as a forward convolution: the upstream gradient
 * (spread out with zeros between rows and columns when the stride is above 1) is convolved with
 * the filter rotated by 180 degrees and with its in/out channels swapped, padded so that the
 * result has the input's size.
 */
export function conv2dInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, geometry: ConvGeometry): tf.Tensor4D {
  const { filterHeight, filterWidth, strideHeight, strideWidth, inHeight, inWidth } = geometry;
  const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
  const spread = strideHeight === 1 && strideWidth === 1 ? dy : dilate(dy, strideHeight, strideWidth);
  const top = filterHeight - 1 - geometry.padTop;
  const left = filterWidth - 1 - geometry.padLeft;
  const bottom = inHeight + filterHeight - 1 - spread.shape[1] - top;
  const right = inWidth + filterWidth - 1 - spread.shape[2] - left;
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return tf.conv2d(spread, rotated, 1, 'valid');
  if (isSamePadding(top, bottom, filterHeight) && isSamePadding(left, right, filterWidth)) {
    // tfjs wasm runs 'same' faster than the equivalent explicit padding.
    return tf.conv2d(spread, rotated, 1, 'same');
  }
  if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) {
    const explicit: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    return tf.conv2d(spread, rotated, 1, explicit);
  }
  return tf.conv2d(padOrCropSpatial(spread, top, bottom, left, right), rotated, 1, 'valid');
}

/** Whether (before, after) is what 'same' pads a stride-1 convolution with a filter of this size. */
function isSamePadding(before: number, after: number, filterSize: number): boolean {
  const total = filterSize - 1;
  return before === Math.floor(total / 2) && after === total - before;
}

/**
 * Places every value of an NHWC tensor at (row * strideHeight, column * strideWidth) of a zero
 * tensor of size [n, h * strideHeight, w * strideWidth, c] (trailing zeros included).
 */
function dilate(x: tf.Tensor4D, strideHeight: number, strideWidth: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const expanded = tf.reshape(x, [n * h, 1, w, 1, c]);
  const spread = tf.pad(expanded, [
    [0, 0],
    [0, strideHeight - 1],
    [0, 0],
    [0, strideWidth - 1],
    [0, 0],
  ]);
  return tf.reshape(spread, [n, h * strideHeight, w * strideWidth, c]);
}

/** Kernel function for `Conv2DBackpropInput`, composed from the backend's fast forward conv. */
export function conv2dBackpropInputKernel({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attributes = attrs as unknown as InputGradientAttributes;
  const geometry = convGeometry('Conv2DBackpropInput', attributes.inputShape, filter.shape, attributes);
  return composeKernel(backend, [dy, filter], (dyTensor, filterTensor) =>
    conv2dInputGradient(dyTensor as tf.Tensor4D, filterTensor as tf.Tensor4D, geometry),
  );
}
