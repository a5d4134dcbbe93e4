import type * as tf from '@tensorflow/tfjs-core';
import type { ActivationName } from '../layers/activation.js';
import type { ForwardContext } from './forward-context.js';
import type { TimeEmbeddingNorm } from './resnet-block-2d.js';

/** Resolved settings shared by every down, up and mid block (Diffusers' `get_down_block` arguments). */
export interface BlockSettings {
  /** Width of the block embedding; `null` in blocks without one (the VAE's encoder and decoder). */
  tembChannels: number | null;
  dropout: number;
  resnetEps: number;
  resnetActFn: ActivationName;
  resnetGroups: number;
  resnetTimeScaleShift: TimeEmbeddingNorm;
  resnetSkipTimeAct: boolean;
  /** Output scale factor of the resnets (Diffusers' `resnet_out_scale_factor`, 1 in UNet2DModel). */
  resnetOutScaleFactor: number;
  /** Per-head size for `Attn*` blocks (UNet2DModel's `attention_head_dim`). */
  attentionHeadDim: number;
  /** Head count for `CrossAttn*` blocks (UNet2DConditionModel's `num_attention_heads`). */
  numAttentionHeads: number;
  /** Context width of `CrossAttn*` blocks. */
  crossAttentionDim: number | null;
  /** Transformer depth of each layer's `Transformer2DModel`. */
  transformerLayersPerBlock: number[];
  useLinearProjection: boolean;
  onlyCrossAttention: boolean;
}

/** Settings of one down block. */
export interface DownBlockSpec extends BlockSettings {
  numLayers: number;
  inChannels: number;
  outChannels: number;
  addDownsample: boolean;
  downsamplePadding: number;
}

/** Settings of one up block. */
export interface UpBlockSpec extends BlockSettings {
  numLayers: number;
  inChannels: number;
  prevOutputChannel: number;
  outChannels: number;
  addUpsample: boolean;
}

/** Settings of the mid block. */
export interface MidBlockSpec extends BlockSettings {
  inChannels: number;
  numLayers: number;
  /** Output scale factor of the mid block's resnets and attention (`mid_block_scale_factor`). */
  outputScaleFactor: number;
  /** Group count of UNetMidBlock2D's attention norm; `null` for none. */
  attnGroups: number | null;
  /** Whether UNetMidBlock2D has attention at all (`add_attention`). */
  addAttention: boolean;
}

/** A down block: returns its output and the skip activations it hands to the up path. */
export interface DownBlock {
  readonly hasCrossAttention: boolean;
  apply(x: tf.Tensor4D, context: ForwardContext): { hidden: tf.Tensor4D; residuals: tf.Tensor4D[] };
}

/** An up block: consumes `skipCount` skip activations, last one first (none in the VAE's decoder blocks). */
export interface UpBlock {
  readonly hasCrossAttention: boolean;
  readonly skipCount: number;
  apply(x: tf.Tensor4D, residuals: tf.Tensor4D[], context: ForwardContext): tf.Tensor4D;
}

/** The mid block. */
export interface MidBlock {
  readonly hasCrossAttention: boolean;
  apply(x: tf.Tensor4D, context: ForwardContext): tf.Tensor4D;
}

/** A per-layer spatial mixer placed after a resnet (attention or transformer). */
export interface SpatialMixer {
  apply(x: tf.Tensor4D, context: ForwardContext): tf.Tensor4D;
}
