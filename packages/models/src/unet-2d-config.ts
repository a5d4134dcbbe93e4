import type { ConfigSchema } from '@diffusion-ts/core';
import type { MidBlockType } from './block-registry.js';
import { checkSampleSize, configFailure, sortedByKey } from './model-config.js';
import { MODEL_RANGES } from './model-ranges.js';
import {
  UNET_2D_COMMON_DEFAULTS,
  UNET_2D_COMMON_SCHEMA,
  checkLevels,
  checkTimeProjection,
  type UNet2DCommonOptions,
} from './unet-2d-common.js';

/**
 * `UNet2DModel` options: Diffusers' `config.json` keys in camelCase, with Diffusers' defaults
 * (the keys shared with `UNet2DConditionModel` are in `UNet2DCommonOptions`).
 */
export interface UNet2DOptions extends UNet2DCommonOptions {
  addAttention: boolean;
  /** Per-head size of the attention blocks (`null`: one head as wide as the block). */
  attentionHeadDim: number | null;
  attnNormNumGroups: number | null;
  downsampleType: 'conv';
  layersPerBlock: number;
  midBlockType: MidBlockType | null;
  numTrainTimesteps: number | null;
  /** `positional` (sinusoidal) or `learned` (a table of `numTrainTimesteps` rows). */
  timeEmbeddingType: 'positional' | 'learned';
  upsampleType: 'conv';
}

/** Diffusers' `UNet2DModel` defaults. */
export const UNET_2D_DEFAULTS: UNet2DOptions = sortedByKey<UNet2DOptions>({
  ...UNET_2D_COMMON_DEFAULTS,
  addAttention: true,
  attentionHeadDim: 8,
  attnNormNumGroups: null,
  blockOutChannels: [224, 448, 672, 896],
  downBlockTypes: ['DownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D'],
  downsampleType: 'conv',
  inChannels: 3,
  layersPerBlock: 2,
  midBlockType: 'UNetMidBlock2D',
  numTrainTimesteps: null,
  outChannels: 3,
  timeEmbeddingType: 'positional',
  upBlockTypes: ['AttnUpBlock2D', 'AttnUpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
  upsampleType: 'conv',
});

/** The config schema of `UNet2DModel` (keys in Diffusers' sorted order). */
export const UNET_2D_SCHEMA: ConfigSchema<UNet2DOptions> = sortedByKey<ConfigSchema<UNet2DOptions>>({
  ...UNET_2D_COMMON_SCHEMA,
  addAttention: { kind: 'boolean' },
  attentionHeadDim: { kind: 'integer', nullable: true, range: MODEL_RANGES.heads },
  attnNormNumGroups: { kind: 'integer', nullable: true, range: MODEL_RANGES.groups },
  downsampleType: { kind: 'string', values: ['conv'] },
  layersPerBlock: { kind: 'integer', range: MODEL_RANGES.layersPerBlock },
  midBlockType: { kind: 'string', nullable: true, values: ['UNetMidBlock2D'] },
  numTrainTimesteps: { kind: 'integer', nullable: true, range: MODEL_RANGES.tableRows },
  timeEmbeddingType: { kind: 'string', values: ['positional', 'learned'] },
  upsampleType: { kind: 'string', values: ['conv'] },
});

/** Checks relations between options that the schema cannot express. */
export function validateUNet2DOptions(options: UNet2DOptions, context = 'UNet2DModel'): UNet2DOptions {
  const fail = configFailure(context);
  // Signs and ranges of single values are checked by the schema.
  checkLevels(options, fail);
  for (const type of [...options.downBlockTypes, ...options.upBlockTypes]) {
    if (type.startsWith('CrossAttn')) {
      fail(type.includes('Down') ? 'down_block_types' : 'up_block_types', `contains '${type}', which needs UNet2DConditionModel`);
    }
  }
  if (options.timeEmbeddingType === 'positional') checkTimeProjection(options, fail);
  if (options.timeEmbeddingType === 'learned' && options.numTrainTimesteps === null) {
    fail('num_train_timesteps', "must be set when time_embedding_type is 'learned'");
  }
  return { ...options, sampleSize: checkSampleSize(options.sampleSize, context) };
}
