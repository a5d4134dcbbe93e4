/**
 * Exponential moving average of model weights with warm-up: the decay of update `t` is
 * min(decay, (1 + t) / (10 + t)), so early averages follow the fast-moving weights.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Options of `ExponentialMovingAverage`. */
export interface EmaOptions {
  /** The final decay (default 0.999). */
  decay?: number;
  /** Use the (1 + t) / (10 + t) warm-up (default true). */
  warmup?: boolean;
}

/** Shadow copies of a list of variables, updated after each optimizer step. */
export class ExponentialMovingAverage {
  readonly decay: number;
  readonly warmup: boolean;
  /** The averaged weights, one per source variable. */
  readonly shadows: tf.Variable[];
  /** Updates applied so far. */
  updateCount = 0;

  constructor(
    readonly variables: readonly tf.Variable[],
    options: EmaOptions = {},
  ) {
    this.decay = options.decay ?? 0.999;
    if (!(this.decay >= 0 && this.decay < 1)) throw new RangeError(`ExponentialMovingAverage: decay must lie in [0, 1), got ${this.decay}`);
    this.warmup = options.warmup ?? true;
    this.shadows = variables.map((v) => tf.variable(tf.clone(v), false));
  }

  /** The decay the next update uses. */
  currentDecay(): number {
    const t = this.updateCount + 1;
    return this.warmup ? Math.min(this.decay, (1 + t) / (10 + t)) : this.decay;
  }

  /** shadow <- shadow - (1 - decay) (shadow - weight). */
  update(): void {
    const keep = 1 - this.currentDecay();
    this.updateCount += 1;
    tf.tidy(() => {
      this.shadows.forEach((shadow, i) => shadow.assign(tf.sub(shadow, tf.mul(tf.sub(shadow, this.variables[i]), keep))));
    });
  }

  /** Frees the shadow variables. */
  dispose(): void {
    tf.dispose(this.shadows);
  }
}
