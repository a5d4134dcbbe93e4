import { ConfigError } from '@diffusion-ts/core';
import type { BlockSettings } from './blocks/block-types.js';
import { commonBodySpec, downBlockChannels, positionalTimeProjection, resnetSettings, upBlockChannels } from './unet-2d-common.js';
import type { UNet2DOptions } from './unet-2d-config.js';
import type { UNetBodySpec } from './unet-body.js';

/** Resolves `UNet2DModel` options into the block layout Diffusers' constructor builds. */
export function resolveUNet2DSpec(options: UNet2DOptions): UNetBodySpec {
  const channels = options.blockOutChannels;
  const common = commonBodySpec(options);
  const groups = options.normNumGroups;
  if (groups === null) {
    throw new ConfigError(
      "UNet2DModel: config key 'norm_num_groups' must be set (the down and up blocks need a group count)",
      'norm_num_groups',
    );
  }
  const base: Omit<BlockSettings, 'attentionHeadDim'> = {
    ...resnetSettings(options, common.timeEmbedDim, groups),
    numAttentionHeads: 1,
    crossAttentionDim: null,
    transformerLayersPerBlock: [1],
    useLinearProjection: false,
    onlyCrossAttention: false,
  };
  const headDim = (width: number): number => options.attentionHeadDim ?? width;

  const down = options.downBlockTypes.map((type, i) => ({
    type,
    spec: {
      ...base,
      attentionHeadDim: headDim(channels[i]),
      numLayers: options.layersPerBlock,
      ...downBlockChannels(channels, i),
      downsamplePadding: options.downsamplePadding,
    },
  }));

  const last = channels[channels.length - 1];
  const mid =
    options.midBlockType === null
      ? null
      : {
          type: options.midBlockType,
          spec: {
            ...base,
            attentionHeadDim: headDim(last),
            inChannels: last,
            numLayers: 1,
            outputScaleFactor: options.midBlockScaleFactor,
            attnGroups: options.attnNormNumGroups ?? (options.resnetTimeScaleShift === 'default' ? groups : null),
            addAttention: options.addAttention,
          },
        };

  const up = options.upBlockTypes.map((type, i) => {
    const levelChannels = upBlockChannels(channels, i);
    return {
      type,
      spec: { ...base, attentionHeadDim: headDim(levelChannels.outChannels), numLayers: options.layersPerBlock + 1, ...levelChannels },
    };
  });

  return {
    ...common,
    timeProjection:
      options.timeEmbeddingType === 'learned'
        ? { kind: 'learned', numTrainTimesteps: options.numTrainTimesteps ?? 0 }
        : positionalTimeProjection(options),
    actFn: 'silu',
    timestepPostAct: null,
    timeEmbeddingActFn: null,
    classEmbeddingsConcat: false,
    down,
    mid,
    up,
    normNumGroupsOut: groups,
    convInKernel: 3,
    convOutKernel: 3,
  };
}
