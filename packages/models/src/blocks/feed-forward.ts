import * as tf from '@tensorflow/tfjs-core';
import { gelu } from '../layers/activation.js';
import { Linear } from '../layers/linear.js';
import type { ParameterScope } from '../parameters/parameter-store.js';
import { dropout } from './dropout.js';

/**
 * The GEGLU feed-forward of Diffusers' `BasicTransformerBlock` (`FeedForward` with
 * `activation_fn="geglu"`): `net.0.proj` maps dim to 2 x inner, the first half is gated by the
 * exact GELU of the second, `net.2` maps inner back to dim.
 */
export class FeedForward {
  readonly proj: Linear;
  readonly out: Linear;
  private readonly innerDim: number;

  constructor(
    scope: ParameterScope,
    dim: number,
    private readonly dropoutRate = 0,
    multiplier = 4,
  ) {
    this.innerDim = Math.trunc(dim * multiplier);
    this.proj = new Linear(scope.child('net').child(0).child('proj'), dim, 2 * this.innerDim);
    this.out = new Linear(scope.child('net').child(2), this.innerDim, dim);
  }

  /** [B, S, dim] -> [B, S, dim]. */
  apply(x: tf.Tensor3D, training: boolean): tf.Tensor3D {
    return tf.tidy(() => {
      const [hidden, gate] = tf.split(this.proj.apply(x), 2, 2);
      const gated = tf.mul(hidden, gelu(gate)) as tf.Tensor3D;
      return this.out.apply(dropout(gated, this.dropoutRate, training));
    });
  }
}
