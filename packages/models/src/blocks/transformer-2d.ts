import * as tf from '@tensorflow/tfjs-core';
import { Conv2d } from '../layers/conv-2d.js';
import { Linear } from '../layers/linear.js';
import type { ParameterScope } from '../parameters/parameter-store.js';
import { BasicTransformerBlock } from './basic-transformer-block.js';
import { GroupNorm } from './group-norm.js';

/** Options of the continuous-input `Transformer2DModel`. */
export interface Transformer2DOptions {
  numAttentionHeads: number;
  attentionHeadDim: number;
  inChannels: number;
  numLayers: number;
  crossAttentionDim: number | null;
  normNumGroups: number;
  /** `proj_in`/`proj_out` are linear layers (true) or 1x1 convolutions (false). */
  useLinearProjection: boolean;
  onlyCrossAttention: boolean;
  dropout: number;
}

/**
 * Diffusers' `Transformer2DModel` for feature maps: group norm (eps 1e-6), `proj_in` to
 * heads x headDim, `numLayers` basic transformer blocks over the H x W tokens, `proj_out`, and
 * the input added back. NHWC in and out.
 */
export class Transformer2D {
  readonly norm: GroupNorm;
  readonly projIn: Conv2d | Linear;
  readonly blocks: BasicTransformerBlock[] = [];
  readonly projOut: Conv2d | Linear;
  private readonly innerDim: number;

  constructor(
    scope: ParameterScope,
    readonly options: Transformer2DOptions,
  ) {
    const { inChannels, numAttentionHeads, attentionHeadDim } = options;
    this.innerDim = numAttentionHeads * attentionHeadDim;
    this.norm = new GroupNorm(scope.child('norm'), options.normNumGroups, inChannels, 1e-6);
    this.projIn = options.useLinearProjection
      ? new Linear(scope.child('proj_in'), inChannels, this.innerDim)
      : new Conv2d(scope.child('proj_in'), { inChannels, outChannels: this.innerDim, kernelSize: 1 });
    for (let i = 0; i < options.numLayers; i += 1) {
      this.blocks.push(
        new BasicTransformerBlock(scope.child('transformer_blocks').child(i), {
          dim: this.innerDim,
          numAttentionHeads,
          attentionHeadDim,
          crossAttentionDim: options.crossAttentionDim,
          onlyCrossAttention: options.onlyCrossAttention,
          dropout: options.dropout,
        }),
      );
    }
    this.projOut = options.useLinearProjection
      ? new Linear(scope.child('proj_out'), this.innerDim, inChannels)
      : new Conv2d(scope.child('proj_out'), { inChannels: this.innerDim, outChannels: inChannels, kernelSize: 1 });
  }

  /** Applies the transformer to `x` [B, H, W, C] with an optional context [B, S, D]. */
  apply(x: tf.Tensor4D, context: tf.Tensor3D | undefined, training: boolean): tf.Tensor4D {
    return tf.tidy(() => {
      const [batch, height, width] = x.shape;
      // Per-pixel projections commute with the NHWC -> tokens reshape, so both variants reduce
      // to one reshape here (PyTorch needs a permute because it works in NCHW).
      let h: tf.Tensor4D = this.norm.apply(x);
      h = this.projIn.apply(h);
      let tokens = tf.reshape(h, [batch, height * width, this.innerDim]) as tf.Tensor3D;
      for (const block of this.blocks) tokens = block.apply(tokens, context, training);
      const map = tf.reshape(tokens, [batch, height, width, this.innerDim]) as tf.Tensor4D;
      return tf.add(this.projOut.apply(map), x);
    });
  }
}
