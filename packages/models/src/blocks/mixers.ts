import type * as tf from '@tensorflow/tfjs-core';
import type { ParameterScope } from '../parameters/parameter-store.js';
import { Attention } from './attention.js';
import type { BlockSettings, SpatialMixer } from './block-types.js';
import type { ForwardContext } from './forward-context.js';
import { Transformer2D } from './transformer-2d.js';

/**
 * The attention of UNet2DModel's `Attn*` blocks: group norm in front, `channels / attentionHeadDim`
 * heads of size `attentionHeadDim`, residual, divided by `rescaleOutputFactor`.
 */
export function spatialSelfAttention(
  scope: ParameterScope,
  channels: number,
  settings: BlockSettings,
  normNumGroups: number | null,
  rescaleOutputFactor: number,
): SpatialMixer {
  const headDim = settings.attentionHeadDim;
  if (channels % headDim !== 0) {
    throw new Error(`${scope.prefix}: ${channels} channels are not a multiple of attention_head_dim ${headDim}`);
  }
  const attention = new Attention(scope, {
    queryDim: channels,
    heads: channels / headDim,
    dimHead: headDim,
    bias: true,
    normNumGroups,
    eps: settings.resnetEps,
    residualConnection: true,
    rescaleOutputFactor,
  });
  return { apply: (x: tf.Tensor4D, context: ForwardContext) => attention.apply(x, undefined, context.training) };
}

/** The `Transformer2DModel` of `CrossAttn*` blocks: `numAttentionHeads` heads of `channels / heads`. */
export function spatialTransformer(
  scope: ParameterScope,
  channels: number,
  settings: BlockSettings,
  layer: number,
  normNumGroups: number,
): SpatialMixer {
  const heads = settings.numAttentionHeads;
  if (channels % heads !== 0) {
    throw new Error(`${scope.prefix}: ${channels} channels are not a multiple of ${heads} attention heads`);
  }
  const transformer = new Transformer2D(scope, {
    numAttentionHeads: heads,
    attentionHeadDim: channels / heads,
    inChannels: channels,
    numLayers: settings.transformerLayersPerBlock[layer] ?? 1,
    crossAttentionDim: settings.crossAttentionDim,
    normNumGroups,
    useLinearProjection: settings.useLinearProjection,
    onlyCrossAttention: settings.onlyCrossAttention,
    dropout: 0,
  });
  return {
    apply: (x: tf.Tensor4D, context: ForwardContext) => transformer.apply(x, context.encoderHiddenStates, context.training),
  };
}
