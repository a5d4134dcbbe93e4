import { MID_BLOCKS } from '../block-registry.js';
import type { BlockSettings, MidBlock } from '../blocks/block-types.js';
import type { ParameterScope } from '../parameters/parameter-store.js';
import type { AutoencoderKLOptions } from './autoencoder-kl-config.js';

/** The norm epsilon of every VAE block and output norm (Diffusers hard-codes it). */
export const VAE_NORM_EPS = 1e-6;

/**
 * The settings Diffusers' `Encoder` and `Decoder` give every block: no time embedding, eps 1e-6,
 * the config's groups and activation, and one attention head as wide as the block.
 */
export function vaeBlockSettings(options: AutoencoderKLOptions, width: number): BlockSettings {
  return {
    tembChannels: null,
    dropout: 0,
    resnetEps: VAE_NORM_EPS,
    resnetActFn: options.actFn,
    resnetGroups: options.normNumGroups,
    resnetTimeScaleShift: 'default',
    resnetSkipTimeAct: false,
    resnetOutScaleFactor: 1,
    attentionHeadDim: width,
    numAttentionHeads: 1,
    crossAttentionDim: null,
    transformerLayersPerBlock: [1],
    useLinearProjection: false,
    onlyCrossAttention: false,
  };
}

/** The `UNetMidBlock2D` of the encoder and the decoder, at the last block's width. */
export function createVaeMidBlock(scope: ParameterScope, options: AutoencoderKLOptions): MidBlock {
  const width = options.blockOutChannels[options.blockOutChannels.length - 1];
  return MID_BLOCKS.UNetMidBlock2D(scope, {
    ...vaeBlockSettings(options, width),
    inChannels: width,
    numLayers: 1,
    outputScaleFactor: 1,
    attnGroups: options.normNumGroups,
    addAttention: options.midBlockAddAttention,
  });
}
