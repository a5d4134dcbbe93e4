import * as tf from '@tensorflow/tfjs-core';
import type { ParameterScope } from '../parameters/parameter-store.js';

/**
 * Group normalisation on NHWC tensors (PyTorch `nn.GroupNorm` with `affine=True`), in float32:
 * the channels are split into `groups` groups, and each group is normalised with its mean and
 * biased variance over H, W and its channels, then scaled and shifted per channel.
 */
export class GroupNorm {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    scope: ParameterScope,
    readonly groups: number,
    readonly channels: number,
    readonly eps = 1e-5,
  ) {
    if (!Number.isInteger(groups) || groups < 1 || channels % groups !== 0) {
      throw new Error(`GroupNorm(${scope.prefix}): ${channels} channels cannot be split into ${groups} groups`);
    }
    this.weight = scope.parameter('weight', [channels], 'plain', { kind: 'ones' });
    this.bias = scope.parameter('bias', [channels], 'plain', { kind: 'zeros' });
  }

  /** Normalises `x` [B, H, W, C]. */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [batch, height, width, channels] = x.shape;
      const grouped = tf.reshape(x, [batch, height * width, this.groups, channels / this.groups]);
      const mean = tf.mean(grouped, [1, 3], true);
      const centered = tf.sub(grouped, mean);
      const variance = tf.mean(tf.square(centered), [1, 3], true);
      const normalized = tf.reshape(tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps))), x.shape);
      return tf.add(tf.mul(normalized, this.weight), this.bias) as tf.Tensor4D;
    });
  }
}
