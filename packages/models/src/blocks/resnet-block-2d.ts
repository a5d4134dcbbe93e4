import * as tf from '@tensorflow/tfjs-core';
import { activation, type ActivationName } from '../layers/activation.js';
import { Conv2d } from '../layers/conv-2d.js';
import { Linear } from '../layers/linear.js';
import type { ParameterScope } from '../parameters/parameter-store.js';
import { dropout } from './dropout.js';
import type { ForwardContext } from './forward-context.js';
import { GroupNorm } from './group-norm.js';

/** How the time embedding enters a resnet block. */
export type TimeEmbeddingNorm = 'default' | 'scale_shift';

/** Options of `ResnetBlock2D` (Diffusers' names in camelCase). */
export interface ResnetBlock2DOptions {
  inChannels: number;
  outChannels: number;
  /** Width of the block embedding; `null` for no time embedding. */
  tembChannels: number | null;
  groups: number;
  groupsOut?: number;
  eps: number;
  dropout: number;
  timeEmbeddingNorm: TimeEmbeddingNorm;
  nonLinearity: ActivationName;
  outputScaleFactor: number;
  /** Skip the activation on the embedding before its projection (Diffusers' `skip_time_act`). */
  skipTimeAct?: boolean;
}

/**
 * The residual block of Diffusers' UNets on NHWC tensors:
 * `h = conv1(act(norm1(x)))`, plus the projected time embedding (`default`: added;
 * `scale_shift`: `norm2(h) * (1 + scale) + shift`), `h = conv2(dropout(act(norm2(h))))`,
 * output `(shortcut(x) + h) / outputScaleFactor` with a 1x1 conv shortcut when the widths differ.
 */
export class ResnetBlock2D {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly timeEmbProj?: Linear;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  readonly convShortcut?: Conv2d;
  private readonly act: <T extends tf.Tensor>(x: T) => T;

  constructor(
    scope: ParameterScope,
    readonly options: ResnetBlock2DOptions,
  ) {
    const { inChannels, outChannels, tembChannels, eps } = options;
    this.norm1 = new GroupNorm(scope.child('norm1'), options.groups, inChannels, eps);
    this.conv1 = new Conv2d(scope.child('conv1'), { inChannels, outChannels, kernelSize: 3, padding: 1 });
    if (tembChannels !== null) {
      const width = options.timeEmbeddingNorm === 'scale_shift' ? 2 * outChannels : outChannels;
      this.timeEmbProj = new Linear(scope.child('time_emb_proj'), tembChannels, width);
    }
    this.norm2 = new GroupNorm(scope.child('norm2'), options.groupsOut ?? options.groups, outChannels, eps);
    this.conv2 = new Conv2d(scope.child('conv2'), { inChannels: outChannels, outChannels, kernelSize: 3, padding: 1 });
    if (inChannels !== outChannels) {
      this.convShortcut = new Conv2d(scope.child('conv_shortcut'), { inChannels, outChannels, kernelSize: 1 });
    }
    this.act = activation(options.nonLinearity);
  }

  /** Applies the block to `x` [B, H, W, inChannels]. */
  apply(x: tf.Tensor4D, context: ForwardContext): tf.Tensor4D {
    return tf.tidy(() => {
      const { outChannels } = this.options;
      let h = this.conv1.apply(this.act(this.norm1.apply(x)));
      let projected: tf.Tensor4D | undefined;
      if (this.timeEmbProj) {
        if (!context.temb)
          throw new Error(
            `ResnetBlock2D: this block projects a time embedding (temb_channels ${this.options.tembChannels}) but none was given`,
          );
        const temb = this.options.skipTimeAct ? context.temb : this.act(context.temb);
        const p = this.timeEmbProj.apply(temb);
        projected = tf.reshape(p, [p.shape[0], 1, 1, p.shape[1]]);
      }
      if (this.options.timeEmbeddingNorm === 'scale_shift' && projected) {
        const [scale, shift] = tf.split(projected, [outChannels, outChannels], 3);
        h = tf.add(tf.mul(this.norm2.apply(h), tf.add(scale, 1)), shift);
      } else {
        if (projected) h = tf.add(h, projected);
        h = this.norm2.apply(h);
      }
      h = this.conv2.apply(dropout(this.act(h), this.options.dropout, context.training));
      const shortcut = this.convShortcut ? this.convShortcut.apply(x) : x;
      const sum = tf.add(shortcut, h);
      return (this.options.outputScaleFactor === 1 ? sum : tf.div(sum, this.options.outputScaleFactor)) as tf.Tensor4D;
    });
  }
}
