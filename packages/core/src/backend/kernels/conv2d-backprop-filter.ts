import * as tf from '@tensorflow/tfjs-core';

import { convGeometry, padOrCropSpatial, type ConvGeometry, type ConvGradientAttributes } from './conv-geometry.js';
import { composedKernel } from './kernel-tensors.js';

/** Attributes tfjs passes to `Conv2DBackpropFilter`. */
interface FilterGradientAttributes extends ConvGradientAttributes {
  filterShape: [number, number, number, number];
}

/**
 * The weight gradient of a 2-D NHWC convolution, computed as one forward convolution over
 * transposed tensors so that it runs on the backend's fast conv kernel (XNNPACK on wasm):
 *
 *   dW[a, b, ci, co] = Σ_{n, oh, ow} xPadded[n, oh·s + a, ow·s + b, ci] · dy[n, oh, ow, co]
 *
 * is a valid convolution of `xPadded` laid out as [ci, h, w, n] (input channels as the batch,
 * the batch as channels) with `dy` laid out as [oh, ow, n, co] as the filter, dilated by the
 * stride; its [ci, a, b, co] output is transposed back to HWIO. (im2col with a transposed matMul
 * is correct too, but tfjs wasm's matMul with `transposeA` is 20x slower than without.)
 */
export function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, geometry: ConvGeometry): tf.Tensor4D {
  const { outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = geometry;
  // A sum over no pixels (a batch of 0, an empty output) is zero; the backend's conv over zero
  // channels would return uninitialised memory instead.
  if (x.size === 0 || dy.size === 0) return tf.zeros([filterHeight, filterWidth, geometry.inChannels, geometry.outChannels]);
  const { padTop, padLeft, inHeight, inWidth } = geometry;
  // Exactly the rows and columns the forward convolution read: padding it used, none it skipped.
  const neededHeight = (outHeight - 1) * strideHeight + filterHeight;
  const neededWidth = (outWidth - 1) * strideWidth + filterWidth;
  const padded = padOrCropSpatial(x, padTop, neededHeight - inHeight - padTop, padLeft, neededWidth - inWidth - padLeft);
  const channelsAsBatch = tf.transpose(padded, [3, 1, 2, 0]);
  const dyAsFilter = tf.transpose(dy, [1, 2, 0, 3]);
  const gradient = tf.conv2d(channelsAsBatch, dyAsFilter, 1, 'valid', 'NHWC', [strideHeight, strideWidth]);
  return tf.transpose(gradient, [1, 2, 0, 3]);
}

/** Kernel function for `Conv2DBackpropFilter` on backends that lack one (wasm). */
export const conv2dBackpropFilterKernel = composedKernel(['x', 'dy'], ({ x, dy }, attributes: FilterGradientAttributes) =>
  conv2dFilterGradient(
    x as tf.Tensor4D,
    dy as tf.Tensor4D,
    convGeometry('Conv2DBackpropFilter', x.shape, attributes.filterShape, attributes),
  ),
);
