import * as tf from '@tensorflow/tfjs-core';

import { convGeometry, padOrCropSpatial, type ConvGeometry, type ConvGradientAttributes } from './conv-geometry.js';
import { composedKernel } from './kernel-tensors.js';

/** Attributes tfjs passes to `Conv2DBackpropInput`. */
interface InputGradientAttributes extends ConvGradientAttributes {
  inputShape: [number, number, number, number];
}

/**
 * The input gradient of a 2-D convolution as forward convolutions, so it runs on the backend's
 * fast conv kernel. Stride 1: the upstream gradient convolved with the filter rotated by 180
 * degrees, in/out channels swapped, padded so the result has the input's size. Larger strides:
 * split by output phase (every (row mod stride, column mod stride) class of input positions sees
 * only every stride-th filter tap), one small stride-1 convolution per phase, interleaved; this
 * costs what the forward convolution costs, where convolving a zero-dilated gradient would cost
 * stride² times more.
 */
export function conv2dInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, geometry: ConvGeometry): tf.Tensor4D {
  // No output channels or pixels: nothing flows back (the conv over zero channels is undefined).
  if (dy.size === 0 || filter.size === 0) return tf.zeros([geometry.batch, geometry.inHeight, geometry.inWidth, geometry.inChannels]);
  const swapped = tf.transpose(filter, [0, 1, 3, 2]);
  if (geometry.strideHeight === 1 && geometry.strideWidth === 1) {
    const rotated = tf.reverse(swapped, [0, 1]);
    const rows = phaseAxis(geometry.inHeight, geometry.outHeight, geometry.filterHeight, 1, geometry.padTop, 0);
    const columns = phaseAxis(geometry.inWidth, geometry.outWidth, geometry.filterWidth, 1, geometry.padLeft, 0);
    return correlate(dy, rotated, rows, columns);
  }
  return phasedInputGradient(dy, swapped, geometry);
}

/** How one output phase reads the upstream gradient along one spatial axis. */
interface PhaseAxis {
  /** Filter taps of this phase, in the order the correlation uses them (reversed). */
  taps: number[];
  /** Padding (negative: cropping) of the upstream gradient before and after. */
  before: number;
  after: number;
  /** Output length of this phase. */
  length: number;
}

/**
 * Along one axis, input position i = stride·q + phase receives dy[o]·W[k] for o·stride + k − pad = i,
 * so k ≡ phase + pad (mod stride): taps k = stride·m + first, and o = q + shift − m. As a
 * correlation over q with the taps reversed, dy is padded by (taps − 1 − shift) before.
 */
function phaseAxis(inSize: number, outSize: number, filterSize: number, stride: number, padBefore: number, phase: number): PhaseAxis {
  const first = (((phase + padBefore) % stride) + stride) % stride;
  const shift = Math.floor((phase + padBefore) / stride);
  const taps: number[] = [];
  for (let tap = first; tap < filterSize; tap += stride) taps.unshift(tap);
  const length = Math.ceil(inSize / stride);
  const before = taps.length - 1 - shift;
  const after = length + taps.length - 1 - outSize - before;
  return { taps, before, after, length };
}

/** A valid stride-1 correlation of `dy` (padded or cropped per axis) with the given filter. */
function correlate(dy: tf.Tensor4D, filter: tf.Tensor4D, rows: PhaseAxis, columns: PhaseAxis): tf.Tensor4D {
  const { before: top, after: bottom } = rows;
  const { before: left, after: right } = columns;
  const [filterHeight, filterWidth] = filter.shape;
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return tf.conv2d(dy, filter, 1, 'valid');
  if (isSamePadding(top, bottom, filterHeight) && isSamePadding(left, right, filterWidth)) {
    // tfjs wasm runs 'same' faster than the equivalent explicit padding.
    return tf.conv2d(dy, filter, 1, 'same');
  }
  if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) {
    const explicit: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    return tf.conv2d(dy, filter, 1, explicit);
  }
  return tf.conv2d(padOrCropSpatial(dy, top, bottom, left, right), filter, 1, 'valid');
}

/** The strided case: one correlation per (row phase, column phase), then interleaved. */
function phasedInputGradient(dy: tf.Tensor4D, swapped: tf.Tensor4D, geometry: ConvGeometry): tf.Tensor4D {
  const { strideHeight, strideWidth, inHeight, inWidth, batch, inChannels } = geometry;
  const rowPhases: tf.Tensor4D[] = [];
  for (let rowPhase = 0; rowPhase < strideHeight; rowPhase++) {
    const rows = phaseAxis(inHeight, geometry.outHeight, geometry.filterHeight, strideHeight, geometry.padTop, rowPhase);
    const columnPhases: tf.Tensor4D[] = [];
    for (let columnPhase = 0; columnPhase < strideWidth; columnPhase++) {
      const columns = phaseAxis(inWidth, geometry.outWidth, geometry.filterWidth, strideWidth, geometry.padLeft, columnPhase);
      if (rows.taps.length === 0 || columns.taps.length === 0) {
        columnPhases.push(tf.zeros([batch, rows.length, columns.length, inChannels]));
        continue;
      }
      const taps = tf.gather(tf.gather(swapped, rows.taps, 0), columns.taps, 1);
      columnPhases.push(correlate(dy, taps, rows, columns));
    }
    // [n, q, p, columnPhase, c]
    rowPhases.push(strideWidth === 1 ? columnPhases[0] : (tf.stack(columnPhases, 3) as tf.Tensor4D));
  }
  const phaseRows = Math.ceil(inHeight / strideHeight);
  const phaseColumns = Math.ceil(inWidth / strideWidth);
  const interleaved: tf.Tensor = strideHeight === 1 ? rowPhases[0] : tf.stack(rowPhases, 2);
  const whole = tf.reshape(interleaved, [batch, phaseRows * strideHeight, phaseColumns * strideWidth, inChannels]) as tf.Tensor4D;
  if (whole.shape[1] === inHeight && whole.shape[2] === inWidth) return whole;
  return tf.slice(whole, [0, 0, 0, 0], [batch, inHeight, inWidth, inChannels]);
}

/** Whether (before, after) is what 'same' pads a stride-1 convolution with a filter of this size. */
function isSamePadding(before: number, after: number, filterSize: number): boolean {
  const total = filterSize - 1;
  return before === Math.floor(total / 2) && after === total - before;
}

/** Kernel function for `Conv2DBackpropInput`, composed from the backend's fast forward conv. */
export const conv2dBackpropInputKernel = composedKernel(['dy', 'filter'], ({ dy, filter }, attributes: InputGradientAttributes) =>
  conv2dInputGradient(
    dy as tf.Tensor4D,
    filter as tf.Tensor4D,
    convGeometry('Conv2DBackpropInput', attributes.inputShape, filter.shape, attributes),
  ),
);
