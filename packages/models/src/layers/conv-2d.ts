import * as tf from '@tensorflow/tfjs-core';
import type { ParameterScope } from '../parameters/parameter-store.js';

/** Padding as PyTorch's `Conv2d(padding=p)` (the same on every side) or explicit `[[top, bottom], [left, right]]`. */
export type Conv2dPadding = number | [[number, number], [number, number]];

/** Options of a 2-D convolution. */
export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride?: number;
  padding?: Conv2dPadding;
  bias?: boolean;
}

/**
 * A 2-D convolution on NHWC tensors with an HWIO kernel (`weight`, stored in Diffusers as OIHW)
 * and an optional bias. Initialised like PyTorch: uniform in ±1/sqrt(fan_in).
 */
export class Conv2d {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  readonly options: Required<Conv2dOptions>;
  private readonly pad: number | tf.backend_util.ExplicitPadding;

  constructor(scope: ParameterScope, options: Conv2dOptions) {
    this.options = { stride: 1, padding: 0, bias: true, ...options };
    const { inChannels, outChannels, kernelSize, padding } = this.options;
    const bound = 1 / Math.sqrt(inChannels * kernelSize * kernelSize);
    this.weight = scope.parameter('weight', [kernelSize, kernelSize, inChannels, outChannels], 'conv', { kind: 'uniform', bound });
    if (this.options.bias) this.bias = scope.parameter('bias', [outChannels], 'plain', { kind: 'uniform', bound });
    this.pad = typeof padding === 'number' ? padding : [[0, 0], padding[0], padding[1], [0, 0]];
  }

  /** Applies the convolution to `x` [B, H, W, inChannels]. */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.fused.conv2d({
      x,
      filter: this.weight as tf.Tensor4D,
      strides: this.options.stride,
      pad: this.pad,
      bias: this.bias,
    });
  }
}
