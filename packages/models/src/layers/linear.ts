import * as tf from '@tensorflow/tfjs-core';
import type { ParameterScope } from '../parameters/parameter-store.js';

/**
 * A fully connected layer over the last axis. The weight is `[in, out]` here and `[out, in]` in
 * Diffusers. Initialised like PyTorch's `nn.Linear`: uniform in ±1/sqrt(in).
 */
export class Linear {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(
    scope: ParameterScope,
    readonly inFeatures: number,
    readonly outFeatures: number,
    hasBias = true,
  ) {
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = scope.parameter('weight', [inFeatures, outFeatures], 'linear', { kind: 'uniform', bound });
    if (hasBias) this.bias = scope.parameter('bias', [outFeatures], 'plain', { kind: 'uniform', bound });
  }

  /** Applies the layer to `x` [..., in], returning [..., out]. */
  apply<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const leading = x.shape.slice(0, -1);
      const flat = tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D;
      const y = tf.fused.matMul({ a: flat, b: this.weight as tf.Tensor2D, bias: this.bias });
      return tf.reshape(y, [...leading, this.outFeatures]) as T;
    });
  }
}
