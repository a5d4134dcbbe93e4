import type * as tf from '@tensorflow/tfjs-core';
import { Conv2d } from '../layers/conv-2d.js';
import type { ParameterScope } from '../parameters/parameter-store.js';

/**
 * Halves H and W with a 3x3 stride-2 convolution (Diffusers' `Downsample2D` with `use_conv`).
 * PyTorch pads `padding` on every side; tfjs' `same` with stride 2 would pad asymmetrically, so the
 * padding is explicit. With `padding` 0 Diffusers pads one row and column at the bottom/right.
 */
export class Downsample2D {
  readonly conv: Conv2d;

  constructor(scope: ParameterScope, channels: number, outChannels: number, padding: number) {
    this.conv = new Conv2d(scope.child('conv'), {
      inChannels: channels,
      outChannels,
      kernelSize: 3,
      stride: 2,
      padding:
        padding === 0
          ? [
              [0, 1],
              [0, 1],
            ]
          : [
              [padding, padding],
              [padding, padding],
            ],
    });
  }

  /** [B, H, W, C] -> [B, H/2, W/2, outChannels]. */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.conv.apply(x);
  }
}
