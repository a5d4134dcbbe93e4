import * as tf from '@tensorflow/tfjs-core';
import { upsampleNearest } from '@diffusion-ts/core';
import { Conv2d } from '../layers/conv-2d.js';
import type { ParameterScope } from '../parameters/parameter-store.js';

/**
 * Doubles H and W by nearest-neighbour repetition (core's `upsampleNearest`, exact gradient),
 * then applies a 3x3 convolution (Diffusers' `Upsample2D` with `use_conv`).
 */
export class Upsample2D {
  readonly conv: Conv2d;

  constructor(scope: ParameterScope, channels: number, outChannels: number) {
    this.conv = new Conv2d(scope.child('conv'), { inChannels: channels, outChannels, kernelSize: 3, padding: 1 });
  }

  /** [B, H, W, C] -> [B, 2H, 2W, outChannels]. */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.conv.apply(upsampleNearest(x, 2)));
  }
}
