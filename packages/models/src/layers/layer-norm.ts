import * as tf from '@tensorflow/tfjs-core';
import type { ParameterScope } from '../parameters/parameter-store.js';

/** Layer normalisation over the last axis with an affine scale and shift (PyTorch `nn.LayerNorm`). */
export class LayerNorm {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    scope: ParameterScope,
    readonly features: number,
    readonly eps = 1e-5,
  ) {
    this.weight = scope.parameter('weight', [features], 'plain', { kind: 'ones' });
    this.bias = scope.parameter('bias', [features], 'plain', { kind: 'zeros' });
  }

  /** Normalises `x` [..., features]. */
  apply<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const axis = x.rank - 1;
      const mean = tf.mean(x, axis, true);
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centered), axis, true);
      const normalized = tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps)));
      return tf.add<T>(tf.mul(normalized, this.weight), this.bias);
    });
  }
}
