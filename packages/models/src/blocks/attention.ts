import * as tf from '@tensorflow/tfjs-core';
import { Linear } from '../layers/linear.js';
import { scaledDotProductAttention } from '../layers/scaled-dot-product-attention.js';
import type { ParameterScope } from '../parameters/parameter-store.js';
import { dropout } from './dropout.js';
import { GroupNorm } from './group-norm.js';

/** Options of multi-head attention (Diffusers' `Attention`). */
export interface AttentionOptions {
  /** Width of the queries (and of the output). */
  queryDim: number;
  /** Width of the cross-attention context; omitted for self-attention. */
  crossAttentionDim?: number;
  heads: number;
  /** Size of one head. */
  dimHead: number;
  /** Bias on `to_q`, `to_k`, `to_v`. */
  bias: boolean;
  /** Bias on `to_out.0` (default true). */
  outBias?: boolean;
  /** Group norm in front (UNet2DModel's attention blocks); `null` for none. */
  normNumGroups?: number | null;
  /** Group norm epsilon. */
  eps?: number;
  /** Add the input back (UNet2DModel's attention blocks). */
  residualConnection?: boolean;
  /** Divide the output by this (Diffusers' `rescale_output_factor`, default 1). */
  rescaleOutputFactor?: number;
  dropout?: number;
}

/**
 * Scaled dot-product multi-head attention on token sequences [B, S, C], or on NHWC maps
 * [B, H, W, C] whose pixels are the tokens. Self-attention unless a context is given. Matches
 * Diffusers' `AttnProcessor`: optional group norm, `softmax(q k^T / sqrt(dimHead)) v` per head,
 * `to_out.0`, then `(out + input) / rescaleOutputFactor` with a residual connection.
 */
export class Attention {
  readonly groupNorm?: GroupNorm;
  readonly toQ: Linear;
  readonly toK: Linear;
  readonly toV: Linear;
  readonly toOut: Linear;
  private readonly innerDim: number;

  constructor(
    scope: ParameterScope,
    readonly options: AttentionOptions,
  ) {
    const { queryDim, heads, dimHead, bias } = options;
    this.innerDim = heads * dimHead;
    const contextDim = options.crossAttentionDim ?? queryDim;
    if (options.normNumGroups != null) {
      this.groupNorm = new GroupNorm(scope.child('group_norm'), options.normNumGroups, queryDim, options.eps ?? 1e-5);
    }
    this.toQ = new Linear(scope.child('to_q'), queryDim, this.innerDim, bias);
    this.toK = new Linear(scope.child('to_k'), contextDim, this.innerDim, bias);
    this.toV = new Linear(scope.child('to_v'), contextDim, this.innerDim, bias);
    this.toOut = new Linear(scope.child('to_out').child(0), this.innerDim, queryDim, options.outBias ?? true);
  }

  /**
   * Attends from `x` ([B, S, C] or [B, H, W, C]) to `context` [B, S', D] (or to itself);
   * returns the shape of `x`.
   */
  apply<T extends tf.Tensor3D | tf.Tensor4D>(x: T, context?: tf.Tensor3D, training = false): T {
    return tf.tidy(() => {
      const batch = x.shape[0];
      const channels = x.shape[x.rank - 1];
      let tokens = tf.reshape(x, [batch, -1, channels]) as tf.Tensor3D;
      if (this.groupNorm) {
        // Group norm over the pixels of the map (or the tokens of the sequence).
        const normalized = this.groupNorm.apply(tf.reshape(tokens, [batch, tokens.shape[1], 1, channels]) as tf.Tensor4D);
        tokens = tf.reshape(normalized, tokens.shape);
      }
      const source = context ?? tokens;
      const attended = scaledDotProductAttention(this.toQ.apply(tokens), this.toK.apply(source), this.toV.apply(source), {
        heads: this.options.heads,
      });
      let output: tf.Tensor = dropout(this.toOut.apply(attended), this.options.dropout ?? 0, training);
      output = tf.reshape(output, x.shape);
      if (this.options.residualConnection) output = tf.add(output, x);
      const rescale = this.options.rescaleOutputFactor ?? 1;
      if (rescale !== 1) output = tf.div(output, rescale);
      return output as T;
    });
  }
}
