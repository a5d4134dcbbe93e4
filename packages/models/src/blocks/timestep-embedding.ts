import type * as tf from '@tensorflow/tfjs-core';
import { activation, type ActivationName } from '../layers/activation.js';
import { Linear } from '../layers/linear.js';
import type { ParameterScope } from '../parameters/parameter-store.js';

/** Options of the timestep MLP (Diffusers' `TimestepEmbedding`). */
export interface TimestepEmbeddingOptions {
  inChannels: number;
  timeEmbedDim: number;
  /** Activation between the two layers (default `silu`). */
  actFn?: ActivationName;
  /** Output width (default `timeEmbedDim`). */
  outDim?: number;
  /** Activation after the second layer (default none). */
  postActFn?: ActivationName | null;
}

/** `linear_2(act(linear_1(x)))`: maps the sinusoidal projection to the block embedding width. */
export class TimestepEmbedding {
  readonly linear1: Linear;
  readonly linear2: Linear;
  private readonly act: <T extends tf.Tensor>(x: T) => T;
  private readonly postAct?: <T extends tf.Tensor>(x: T) => T;

  constructor(scope: ParameterScope, options: TimestepEmbeddingOptions) {
    this.linear1 = new Linear(scope.child('linear_1'), options.inChannels, options.timeEmbedDim);
    this.linear2 = new Linear(scope.child('linear_2'), options.timeEmbedDim, options.outDim ?? options.timeEmbedDim);
    this.act = activation(options.actFn ?? 'silu');
    if (options.postActFn) this.postAct = activation(options.postActFn);
  }

  /** Maps [B, inChannels] to [B, outDim]. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const hidden = this.linear2.apply(this.act(this.linear1.apply(x)));
    return this.postAct ? this.postAct(hidden) : hidden;
  }
}
