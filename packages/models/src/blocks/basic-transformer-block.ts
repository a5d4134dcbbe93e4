import * as tf from '@tensorflow/tfjs-core';
import { LayerNorm } from '../layers/layer-norm.js';
import type { ParameterScope } from '../parameters/parameter-store.js';
import { Attention } from './attention.js';
import { FeedForward } from './feed-forward.js';

/** Options of `BasicTransformerBlock` (layer-norm variant). */
export interface BasicTransformerBlockOptions {
  dim: number;
  numAttentionHeads: number;
  attentionHeadDim: number;
  /** Context width for cross-attention; `null` for none. */
  crossAttentionDim: number | null;
  /** The first attention attends to the context too (Diffusers' `only_cross_attention`). */
  onlyCrossAttention: boolean;
  dropout: number;
}

/**
 * Pre-norm transformer block on tokens [B, S, dim]: `x += attn1(norm1(x))` (self-attention),
 * `x += attn2(norm2(x), context)` (cross-attention, when configured), `x += ff(norm3(x))` (GEGLU).
 */
export class BasicTransformerBlock {
  readonly norm1: LayerNorm;
  readonly attn1: Attention;
  readonly norm2?: LayerNorm;
  readonly attn2?: Attention;
  readonly norm3: LayerNorm;
  readonly ff: FeedForward;

  constructor(
    scope: ParameterScope,
    readonly options: BasicTransformerBlockOptions,
  ) {
    const { dim, numAttentionHeads: heads, attentionHeadDim: dimHead, crossAttentionDim } = options;
    this.norm1 = new LayerNorm(scope.child('norm1'), dim, 1e-5);
    this.attn1 = new Attention(scope.child('attn1'), {
      queryDim: dim,
      crossAttentionDim: options.onlyCrossAttention && crossAttentionDim !== null ? crossAttentionDim : undefined,
      heads,
      dimHead,
      bias: false,
      dropout: options.dropout,
    });
    if (crossAttentionDim !== null) {
      this.norm2 = new LayerNorm(scope.child('norm2'), dim, 1e-5);
      this.attn2 = new Attention(scope.child('attn2'), {
        queryDim: dim,
        crossAttentionDim,
        heads,
        dimHead,
        bias: false,
        dropout: options.dropout,
      });
    }
    this.norm3 = new LayerNorm(scope.child('norm3'), dim, 1e-5);
    this.ff = new FeedForward(scope.child('ff'), dim, options.dropout);
  }

  /** Applies the block to `x` [B, S, dim] with an optional context [B, S', D]. */
  apply(x: tf.Tensor3D, context: tf.Tensor3D | undefined, training: boolean): tf.Tensor3D {
    return tf.tidy(() => {
      const selfContext = this.options.onlyCrossAttention ? context : undefined;
      let h = tf.add(x, this.attn1.apply(this.norm1.apply(x), selfContext, training)) as tf.Tensor3D;
      if (this.attn2 && this.norm2) {
        h = tf.add(h, this.attn2.apply(this.norm2.apply(h), context, training));
      }
      return tf.add(h, this.ff.apply(this.norm3.apply(h), training));
    });
  }
}
