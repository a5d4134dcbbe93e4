import { ConfigError, type ConfigSchema } from '@diffusion-ts/core';
import { DOWN_BLOCK_TYPES, MID_BLOCK_TYPES, UP_BLOCK_TYPES, type DownBlockType, type MidBlockType, type UpBlockType } from './block-registry.js';
import { ACTIVATION_NAMES, type ActivationName } from './layers/activation.js';

/** `UNet2DModel` options: Diffusers' `config.json` keys in camelCase, with Diffusers' defaults. */
export interface UNet2DOptions {
  actFn: ActivationName;
  addAttention: boolean;
  /** Per-head size of the attention blocks (`null`: one head as wide as the block). */
  attentionHeadDim: number | null;
  attnNormNumGroups: number | null;
  blockOutChannels: number[];
  centerInputSample: boolean;
  /** `null` (with `numClassEmbeds`: a learned table) or `timestep` (class ids embedded like timesteps). */
  classEmbedType: 'timestep' | null;
  downBlockTypes: DownBlockType[];
  downsamplePadding: number;
  downsampleType: 'conv';
  dropout: number;
  flipSinToCos: boolean;
  freqShift: number;
  inChannels: number;
  layersPerBlock: number;
  midBlockScaleFactor: number;
  midBlockType: MidBlockType | null;
  normEps: number;
  normNumGroups: number | null;
  numClassEmbeds: number | null;
  numTrainTimesteps: number | null;
  outChannels: number;
  resnetTimeScaleShift: 'default' | 'scale_shift';
  /** Training resolution (an integer or [height, width]); informational. */
  sampleSize: number | [number, number] | null;
  timeEmbeddingDim: number | null;
  /** `positional` (sinusoidal) or `learned` (a table of `numTrainTimesteps` rows). */
  timeEmbeddingType: 'positional' | 'learned';
  upBlockTypes: UpBlockType[];
  upsampleType: 'conv';
}

/** Diffusers' `UNet2DModel` defaults. */
export const UNET_2D_DEFAULTS: UNet2DOptions = {
  actFn: 'silu',
  addAttention: true,
  attentionHeadDim: 8,
  attnNormNumGroups: null,
  blockOutChannels: [224, 448, 672, 896],
  centerInputSample: false,
  classEmbedType: null,
  downBlockTypes: ['DownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D'],
  downsamplePadding: 1,
  downsampleType: 'conv',
  dropout: 0,
  flipSinToCos: true,
  freqShift: 0,
  inChannels: 3,
  layersPerBlock: 2,
  midBlockScaleFactor: 1,
  midBlockType: 'UNetMidBlock2D',
  normEps: 1e-5,
  normNumGroups: 32,
  numClassEmbeds: null,
  numTrainTimesteps: null,
  outChannels: 3,
  resnetTimeScaleShift: 'default',
  sampleSize: null,
  timeEmbeddingDim: null,
  timeEmbeddingType: 'positional',
  upBlockTypes: ['AttnUpBlock2D', 'AttnUpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
  upsampleType: 'conv',
};

/** The config schema of `UNet2DModel` (keys in Diffusers' sorted order). */
export const UNET_2D_SCHEMA: ConfigSchema<UNet2DOptions> = {
  actFn: { kind: 'string', values: ACTIVATION_NAMES },
  addAttention: { kind: 'boolean' },
  attentionHeadDim: { kind: 'integer', nullable: true },
  attnNormNumGroups: { kind: 'integer', nullable: true },
  blockOutChannels: { kind: 'integer[]' },
  centerInputSample: { kind: 'boolean' },
  classEmbedType: { kind: 'string', nullable: true, values: ['timestep'] },
  downBlockTypes: { kind: 'string[]', values: DOWN_BLOCK_TYPES },
  downsamplePadding: { kind: 'integer' },
  downsampleType: { kind: 'string', values: ['conv'] },
  dropout: { kind: 'number' },
  flipSinToCos: { kind: 'boolean' },
  freqShift: { kind: 'number' },
  inChannels: { kind: 'integer' },
  layersPerBlock: { kind: 'integer' },
  midBlockScaleFactor: { kind: 'number' },
  midBlockType: { kind: 'string', nullable: true, values: ['UNetMidBlock2D'] },
  normEps: { kind: 'number' },
  normNumGroups: { kind: 'integer', nullable: true },
  numClassEmbeds: { kind: 'integer', nullable: true },
  numTrainTimesteps: { kind: 'integer', nullable: true },
  outChannels: { kind: 'integer' },
  resnetTimeScaleShift: { kind: 'string', values: ['default', 'scale_shift'] },
  sampleSize: { kind: 'json', nullable: true },
  timeEmbeddingDim: { kind: 'integer', nullable: true },
  timeEmbeddingType: { kind: 'string', values: ['positional', 'learned'] },
  upBlockTypes: { kind: 'string[]', values: UP_BLOCK_TYPES },
  upsampleType: { kind: 'string', values: ['conv'] },
};

/** Checks a sample size value (`null`, a positive integer or two of them). */
export function checkSampleSize(value: unknown, context: string): number | [number, number] | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (Array.isArray(value) && value.length === 2 && value.every((item) => Number.isInteger(item) && item > 0)) {
    return [value[0] as number, value[1] as number];
  }
  throw new ConfigError(`${context}: config key 'sample_size' must be a positive integer or [height, width], got ${JSON.stringify(value)}`, 'sample_size');
}

/** Checks relations between options that the schema cannot express. */
export function validateUNet2DOptions(options: UNet2DOptions, context = 'UNet2DModel'): UNet2DOptions {
  const fail = (key: string, message: string): never => {
    throw new ConfigError(`${context}: config key '${key}' ${message}`, key);
  };
  const levels = options.blockOutChannels.length;
  if (levels === 0) fail('block_out_channels', 'must not be empty');
  if (options.blockOutChannels.some((width) => width < 1)) fail('block_out_channels', 'must be positive');
  if (options.downBlockTypes.length !== levels) {
    fail('down_block_types', `has ${options.downBlockTypes.length} entries but block_out_channels has ${levels}`);
  }
  if (options.upBlockTypes.length !== levels) {
    fail('up_block_types', `has ${options.upBlockTypes.length} entries but block_out_channels has ${levels}`);
  }
  for (const type of [...options.downBlockTypes, ...options.upBlockTypes]) {
    if (type.startsWith('CrossAttn')) {
      fail(type.includes('Down') ? 'down_block_types' : 'up_block_types', `contains '${type}', which needs UNet2DConditionModel`);
    }
  }
  if (options.inChannels < 1) fail('in_channels', 'must be positive');
  if (options.outChannels < 1) fail('out_channels', 'must be positive');
  if (options.layersPerBlock < 1) fail('layers_per_block', 'must be positive');
  if (options.dropout < 0 || options.dropout >= 1) fail('dropout', 'must be in [0, 1)');
  if (options.timeEmbeddingType === 'learned' && options.numTrainTimesteps === null) {
    fail('num_train_timesteps', "must be set when time_embedding_type is 'learned'");
  }
  if (options.numClassEmbeds !== null && options.numClassEmbeds < 1) fail('num_class_embeds', 'must be positive');
  return { ...options, sampleSize: checkSampleSize(options.sampleSize, context) };
}
