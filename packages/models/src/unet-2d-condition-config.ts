import { ConfigError, type ConfigSchema } from '@diffusion-ts/core';
import { DOWN_BLOCK_TYPES, MID_BLOCK_TYPES, UP_BLOCK_TYPES, type DownBlockType, type MidBlockType, type UpBlockType } from './block-registry.js';
import { ACTIVATION_NAMES, type ActivationName } from './layers/activation.js';
import { checkSampleSize } from './unet-2d-config.js';

/** A value given once for all blocks or once per block. */
export type PerBlock<T> = T | T[];

/**
 * `UNet2DConditionModel` options: Diffusers' `config.json` keys in camelCase, with Diffusers'
 * defaults. Keys of features we do not implement are accepted only at their default value.
 */
export interface UNet2DConditionOptions {
  actFn: ActivationName;
  additionEmbedType: string | null;
  additionEmbedTypeNumHeads: number;
  additionTimeEmbedDim: number | null;
  /** Diffusers' quirk: in this model it is the number of heads (used when `numAttentionHeads` is null). */
  attentionHeadDim: PerBlock<number>;
  attentionType: 'default';
  blockOutChannels: number[];
  centerInputSample: boolean;
  /** `null` (with `numClassEmbeds`: a learned table) or `timestep` (class ids embedded like timesteps). */
  classEmbedType: 'timestep' | null;
  classEmbeddingsConcat: boolean;
  convInKernel: number;
  convOutKernel: number;
  crossAttentionDim: PerBlock<number>;
  crossAttentionNorm: string | null;
  downBlockTypes: DownBlockType[];
  downsamplePadding: number;
  dropout: number;
  dualCrossAttention: boolean;
  encoderHidDim: number | null;
  encoderHidDimType: string | null;
  flipSinToCos: boolean;
  freqShift: number;
  inChannels: number;
  layersPerBlock: PerBlock<number>;
  midBlockOnlyCrossAttention: boolean | null;
  midBlockScaleFactor: number;
  midBlockType: MidBlockType | null;
  normEps: number;
  normNumGroups: number | null;
  numAttentionHeads: PerBlock<number> | null;
  numClassEmbeds: number | null;
  onlyCrossAttention: PerBlock<boolean>;
  outChannels: number;
  projectionClassEmbeddingsInputDim: number | null;
  resnetOutScaleFactor: number;
  resnetSkipTimeAct: boolean;
  resnetTimeScaleShift: 'default' | 'scale_shift';
  reverseTransformerLayersPerBlock: number[] | null;
  sampleSize: number | [number, number] | null;
  timeCondProjDim: number | null;
  timeEmbeddingActFn: ActivationName | null;
  timeEmbeddingDim: number | null;
  timeEmbeddingType: 'positional';
  timestepPostAct: ActivationName | null;
  transformerLayersPerBlock: PerBlock<number>;
  upBlockTypes: UpBlockType[];
  /** Only changes fp16 behaviour in Diffusers; our attention always runs in float32. */
  upcastAttention: boolean;
  useLinearProjection: boolean;
}

/** Diffusers' `UNet2DConditionModel` defaults (Stable Diffusion's layout). */
export const UNET_2D_CONDITION_DEFAULTS: UNet2DConditionOptions = {
  actFn: 'silu',
  additionEmbedType: null,
  additionEmbedTypeNumHeads: 64,
  additionTimeEmbedDim: null,
  attentionHeadDim: 8,
  attentionType: 'default',
  blockOutChannels: [320, 640, 1280, 1280],
  centerInputSample: false,
  classEmbedType: null,
  classEmbeddingsConcat: false,
  convInKernel: 3,
  convOutKernel: 3,
  crossAttentionDim: 1280,
  crossAttentionNorm: null,
  downBlockTypes: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  downsamplePadding: 1,
  dropout: 0,
  dualCrossAttention: false,
  encoderHidDim: null,
  encoderHidDimType: null,
  flipSinToCos: true,
  freqShift: 0,
  inChannels: 4,
  layersPerBlock: 2,
  midBlockOnlyCrossAttention: null,
  midBlockScaleFactor: 1,
  midBlockType: 'UNetMidBlock2DCrossAttn',
  normEps: 1e-5,
  normNumGroups: 32,
  numAttentionHeads: null,
  numClassEmbeds: null,
  onlyCrossAttention: false,
  outChannels: 4,
  projectionClassEmbeddingsInputDim: null,
  resnetOutScaleFactor: 1,
  resnetSkipTimeAct: false,
  resnetTimeScaleShift: 'default',
  reverseTransformerLayersPerBlock: null,
  sampleSize: null,
  timeCondProjDim: null,
  timeEmbeddingActFn: null,
  timeEmbeddingDim: null,
  timeEmbeddingType: 'positional',
  timestepPostAct: null,
  transformerLayersPerBlock: 1,
  upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  upcastAttention: false,
  useLinearProjection: false,
};

/** The config schema of `UNet2DConditionModel` (keys in Diffusers' sorted order). */
export const UNET_2D_CONDITION_SCHEMA: ConfigSchema<UNet2DConditionOptions> = {
  actFn: { kind: 'string', values: ACTIVATION_NAMES },
  additionEmbedType: { kind: 'string', nullable: true },
  additionEmbedTypeNumHeads: { kind: 'integer' },
  additionTimeEmbedDim: { kind: 'integer', nullable: true },
  attentionHeadDim: { kind: 'json' },
  attentionType: { kind: 'string', values: ['default'] },
  blockOutChannels: { kind: 'integer[]' },
  centerInputSample: { kind: 'boolean' },
  classEmbedType: { kind: 'string', nullable: true, values: ['timestep'] },
  classEmbeddingsConcat: { kind: 'boolean' },
  convInKernel: { kind: 'integer' },
  convOutKernel: { kind: 'integer' },
  crossAttentionDim: { kind: 'json' },
  crossAttentionNorm: { kind: 'string', nullable: true },
  downBlockTypes: { kind: 'string[]', values: DOWN_BLOCK_TYPES },
  downsamplePadding: { kind: 'integer' },
  dropout: { kind: 'number' },
  dualCrossAttention: { kind: 'boolean' },
  encoderHidDim: { kind: 'integer', nullable: true },
  encoderHidDimType: { kind: 'string', nullable: true },
  flipSinToCos: { kind: 'boolean' },
  freqShift: { kind: 'number' },
  inChannels: { kind: 'integer' },
  layersPerBlock: { kind: 'json' },
  midBlockOnlyCrossAttention: { kind: 'boolean', nullable: true },
  midBlockScaleFactor: { kind: 'number' },
  midBlockType: { kind: 'string', nullable: true, values: MID_BLOCK_TYPES },
  normEps: { kind: 'number' },
  normNumGroups: { kind: 'integer', nullable: true },
  numAttentionHeads: { kind: 'json', nullable: true },
  numClassEmbeds: { kind: 'integer', nullable: true },
  onlyCrossAttention: { kind: 'json' },
  outChannels: { kind: 'integer' },
  projectionClassEmbeddingsInputDim: { kind: 'integer', nullable: true },
  resnetOutScaleFactor: { kind: 'number' },
  resnetSkipTimeAct: { kind: 'boolean' },
  resnetTimeScaleShift: { kind: 'string', values: ['default', 'scale_shift'] },
  reverseTransformerLayersPerBlock: { kind: 'integer[]', nullable: true },
  sampleSize: { kind: 'json', nullable: true },
  timeCondProjDim: { kind: 'integer', nullable: true },
  timeEmbeddingActFn: { kind: 'string', nullable: true, values: ACTIVATION_NAMES },
  timeEmbeddingDim: { kind: 'integer', nullable: true },
  timeEmbeddingType: { kind: 'string', values: ['positional'] },
  timestepPostAct: { kind: 'string', nullable: true, values: ACTIVATION_NAMES },
  transformerLayersPerBlock: { kind: 'json' },
  upBlockTypes: { kind: 'string[]', values: UP_BLOCK_TYPES },
  upcastAttention: { kind: 'boolean' },
  useLinearProjection: { kind: 'boolean' },
};

/** Options that must stay at their default because the feature is not implemented. */
const UNSUPPORTED: (keyof UNet2DConditionOptions)[] = [
  'additionEmbedType',
  'additionTimeEmbedDim',
  'crossAttentionNorm',
  'dualCrossAttention',
  'encoderHidDim',
  'encoderHidDimType',
  'projectionClassEmbeddingsInputDim',
  'timeCondProjDim',
];

const snake = (name: string): string => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/** Expands a per-block value to one entry per block, checking its type. */
export function perBlock<T>(
  value: unknown,
  count: number,
  key: keyof UNet2DConditionOptions,
  check: (item: unknown) => item is T,
  expected: string,
): T[] {
  const name = snake(key);
  if (Array.isArray(value)) {
    if (value.length !== count || !value.every(check)) {
      throw new ConfigError(`UNet2DConditionModel: config key '${name}' must be ${expected} or a list of ${count} of them, got ${JSON.stringify(value)}`, name);
    }
    return value;
  }
  if (!check(value)) {
    throw new ConfigError(`UNet2DConditionModel: config key '${name}' must be ${expected} or a list of ${count} of them, got ${JSON.stringify(value)}`, name);
  }
  return Array.from({ length: count }, () => value);
}

/** Positive integer check for `perBlock`. */
export const isPositiveInteger = (item: unknown): item is number => typeof item === 'number' && Number.isInteger(item) && item > 0;
/** Boolean check for `perBlock`. */
export const isBoolean = (item: unknown): item is boolean => typeof item === 'boolean';

/** Checks relations and unsupported features that the schema cannot express. */
export function validateUNet2DConditionOptions(options: UNet2DConditionOptions): UNet2DConditionOptions {
  const context = 'UNet2DConditionModel';
  const fail = (key: string, message: string): never => {
    throw new ConfigError(`${context}: config key '${key}' ${message}`, key);
  };
  for (const key of UNSUPPORTED) {
    const value = options[key];
    if (value !== UNET_2D_CONDITION_DEFAULTS[key]) fail(snake(key), `= ${JSON.stringify(value)} is not supported (only ${JSON.stringify(UNET_2D_CONDITION_DEFAULTS[key])})`);
  }
  const levels = options.blockOutChannels.length;
  if (levels === 0) fail('block_out_channels', 'must not be empty');
  if (options.downBlockTypes.length !== levels) fail('down_block_types', `has ${options.downBlockTypes.length} entries but block_out_channels has ${levels}`);
  if (options.upBlockTypes.length !== levels) fail('up_block_types', `has ${options.upBlockTypes.length} entries but block_out_channels has ${levels}`);
  if (options.convInKernel % 2 !== 1) fail('conv_in_kernel', 'must be odd');
  if (options.convOutKernel % 2 !== 1) fail('conv_out_kernel', 'must be odd');
  if (options.dropout < 0 || options.dropout >= 1) fail('dropout', 'must be in [0, 1)');
  if (options.normNumGroups === null) fail('norm_num_groups', 'must be set (the blocks need a group count)');
  perBlock(options.attentionHeadDim, levels, 'attentionHeadDim', isPositiveInteger, 'a positive integer');
  if (options.numAttentionHeads !== null) perBlock(options.numAttentionHeads, levels, 'numAttentionHeads', isPositiveInteger, 'a positive integer');
  perBlock(options.crossAttentionDim, levels, 'crossAttentionDim', isPositiveInteger, 'a positive integer');
  perBlock(options.layersPerBlock, levels, 'layersPerBlock', isPositiveInteger, 'a positive integer');
  perBlock(options.transformerLayersPerBlock, levels, 'transformerLayersPerBlock', isPositiveInteger, 'a positive integer');
  perBlock(options.onlyCrossAttention, levels, 'onlyCrossAttention', isBoolean, 'a boolean');
  if (options.reverseTransformerLayersPerBlock !== null && options.reverseTransformerLayersPerBlock.length !== levels) {
    fail('reverse_transformer_layers_per_block', `must have ${levels} entries`);
  }
  if (options.classEmbeddingsConcat && options.classEmbedType === null && options.numClassEmbeds === null) {
    fail('class_embeddings_concat', 'needs a class embedding (num_class_embeds or class_embed_type)');
  }
  return { ...options, sampleSize: checkSampleSize(options.sampleSize, context) };
}
