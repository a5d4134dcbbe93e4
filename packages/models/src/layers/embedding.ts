import * as tf from '@tensorflow/tfjs-core';
import type { ParameterScope } from '../parameters/parameter-store.js';

/** A lookup table (PyTorch `nn.Embedding`, initialised from a standard normal). */
export class Embedding {
  readonly weight: tf.Variable;

  constructor(
    scope: ParameterScope,
    readonly count: number,
    readonly features: number,
  ) {
    this.weight = scope.parameter('weight', [count, features], 'plain', { kind: 'normal', std: 1 });
  }

  /** Looks up integer `indices` [B] -> [B, features]; out-of-range indices throw. */
  apply(indices: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => {
      const values = indices.dataSync();
      for (const value of values) {
        if (!Number.isInteger(value) || value < 0 || value >= this.count) {
          throw new Error(`Embedding: index ${value} is out of range [0, ${this.count})`);
        }
      }
      return tf.gather(this.weight, tf.cast(indices, 'int32')) as tf.Tensor2D;
    });
  }
}
