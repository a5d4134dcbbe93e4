import { ConfigError, previewJson, toSnakeCase, type ConfigSchema } from '@diffusion-ts/core';
import { MID_BLOCK_TYPES, type MidBlockType } from './block-registry.js';
import { ACTIVATION_NAMES, type ActivationName } from './layers/activation.js';
import { checkSampleSize, configFailure, sortedByKey } from './model-config.js';
import { MODEL_RANGES, integerIn } from './model-ranges.js';
import {
  UNET_2D_COMMON_DEFAULTS,
  UNET_2D_COMMON_SCHEMA,
  checkLevels,
  checkTimeProjection,
  type UNet2DCommonOptions,
} from './unet-2d-common.js';

/** A value given once for all blocks or once per block. */
export type PerBlock<T> = T | T[];

/**
 * `UNet2DConditionModel` options: Diffusers' `config.json` keys in camelCase, with Diffusers'
 * defaults (the keys shared with `UNet2DModel` are in `UNet2DCommonOptions`). Keys of features
 * we do not implement are accepted only at their default value.
 */
export interface UNet2DConditionOptions extends UNet2DCommonOptions {
  additionEmbedType: string | null;
  additionEmbedTypeNumHeads: number;
  additionTimeEmbedDim: number | null;
  /** Diffusers' quirk: in this model it is the number of heads (used when `numAttentionHeads` is null). */
  attentionHeadDim: PerBlock<number>;
  attentionType: 'default';
  classEmbeddingsConcat: boolean;
  convInKernel: number;
  convOutKernel: number;
  crossAttentionDim: PerBlock<number>;
  crossAttentionNorm: string | null;
  dualCrossAttention: boolean;
  encoderHidDim: number | null;
  encoderHidDimType: string | null;
  layersPerBlock: PerBlock<number>;
  midBlockOnlyCrossAttention: boolean | null;
  midBlockType: MidBlockType | null;
  numAttentionHeads: PerBlock<number> | null;
  onlyCrossAttention: PerBlock<boolean>;
  projectionClassEmbeddingsInputDim: number | null;
  resnetOutScaleFactor: number;
  resnetSkipTimeAct: boolean;
  reverseTransformerLayersPerBlock: number[] | null;
  timeCondProjDim: number | null;
  timeEmbeddingActFn: ActivationName | null;
  timeEmbeddingType: 'positional';
  timestepPostAct: ActivationName | null;
  transformerLayersPerBlock: PerBlock<number>;
  /** Only changes fp16 behaviour in Diffusers; our attention always runs in float32. */
  upcastAttention: boolean;
  useLinearProjection: boolean;
}

/** Diffusers' `UNet2DConditionModel` defaults (Stable Diffusion's layout). */
export const UNET_2D_CONDITION_DEFAULTS: UNet2DConditionOptions = sortedByKey<UNet2DConditionOptions>({
  ...UNET_2D_COMMON_DEFAULTS,
  additionEmbedType: null,
  additionEmbedTypeNumHeads: 64,
  additionTimeEmbedDim: null,
  attentionHeadDim: 8,
  attentionType: 'default',
  blockOutChannels: [320, 640, 1280, 1280],
  classEmbeddingsConcat: false,
  convInKernel: 3,
  convOutKernel: 3,
  crossAttentionDim: 1280,
  crossAttentionNorm: null,
  downBlockTypes: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  dualCrossAttention: false,
  encoderHidDim: null,
  encoderHidDimType: null,
  inChannels: 4,
  layersPerBlock: 2,
  midBlockOnlyCrossAttention: null,
  midBlockType: 'UNetMidBlock2DCrossAttn',
  numAttentionHeads: null,
  onlyCrossAttention: false,
  outChannels: 4,
  projectionClassEmbeddingsInputDim: null,
  resnetOutScaleFactor: 1,
  resnetSkipTimeAct: false,
  reverseTransformerLayersPerBlock: null,
  timeCondProjDim: null,
  timeEmbeddingActFn: null,
  timeEmbeddingType: 'positional',
  timestepPostAct: null,
  transformerLayersPerBlock: 1,
  upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  upcastAttention: false,
  useLinearProjection: false,
});

/** The config schema of `UNet2DConditionModel` (keys in Diffusers' sorted order). */
export const UNET_2D_CONDITION_SCHEMA: ConfigSchema<UNet2DConditionOptions> = sortedByKey<ConfigSchema<UNet2DConditionOptions>>({
  ...UNET_2D_COMMON_SCHEMA,
  additionEmbedType: { kind: 'string', nullable: true },
  additionEmbedTypeNumHeads: { kind: 'integer', range: MODEL_RANGES.heads },
  additionTimeEmbedDim: { kind: 'integer', nullable: true, range: MODEL_RANGES.channels },
  attentionHeadDim: { kind: 'json' },
  attentionType: { kind: 'string', values: ['default'] },
  classEmbeddingsConcat: { kind: 'boolean' },
  convInKernel: { kind: 'integer', range: MODEL_RANGES.kernel },
  convOutKernel: { kind: 'integer', range: MODEL_RANGES.kernel },
  crossAttentionDim: { kind: 'json' },
  crossAttentionNorm: { kind: 'string', nullable: true },
  dualCrossAttention: { kind: 'boolean' },
  encoderHidDim: { kind: 'integer', nullable: true, range: MODEL_RANGES.channels },
  encoderHidDimType: { kind: 'string', nullable: true },
  layersPerBlock: { kind: 'json' },
  midBlockOnlyCrossAttention: { kind: 'boolean', nullable: true },
  midBlockType: { kind: 'string', nullable: true, values: MID_BLOCK_TYPES },
  numAttentionHeads: { kind: 'json', nullable: true },
  onlyCrossAttention: { kind: 'json' },
  projectionClassEmbeddingsInputDim: { kind: 'integer', nullable: true, range: MODEL_RANGES.channels },
  resnetOutScaleFactor: { kind: 'number', range: MODEL_RANGES.scale },
  resnetSkipTimeAct: { kind: 'boolean' },
  reverseTransformerLayersPerBlock: { kind: 'integer[]', nullable: true, range: MODEL_RANGES.transformerLayers },
  timeCondProjDim: { kind: 'integer', nullable: true, range: MODEL_RANGES.channels },
  timeEmbeddingActFn: { kind: 'string', nullable: true, values: ACTIVATION_NAMES },
  timeEmbeddingType: { kind: 'string', values: ['positional'] },
  timestepPostAct: { kind: 'string', nullable: true, values: ACTIVATION_NAMES },
  transformerLayersPerBlock: { kind: 'json' },
  upcastAttention: { kind: 'boolean' },
  useLinearProjection: { kind: 'boolean' },
});

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

/** Expands a per-block value to one entry per block, checking its type. */
export function perBlock<T>(
  value: unknown,
  count: number,
  key: keyof UNet2DConditionOptions,
  check: (item: unknown) => item is T,
  expected: string,
): T[] {
  if (Array.isArray(value) ? value.length === count && value.every(check) : check(value)) {
    return Array.isArray(value) ? (value as T[]) : Array.from({ length: count }, () => value as T);
  }
  const name = toSnakeCase(key);
  throw new ConfigError(
    `UNet2DConditionModel: config key '${name}' must be ${expected} or a list of ${count} of them, got ${previewJson(value)}`,
    name,
  );
}

/** The per-block integer keys and their checks for `perBlock`. */
export const PER_BLOCK_INTEGERS = {
  attentionHeadDim: integerIn(MODEL_RANGES.heads),
  numAttentionHeads: integerIn(MODEL_RANGES.heads),
  crossAttentionDim: integerIn(MODEL_RANGES.channels),
  layersPerBlock: integerIn(MODEL_RANGES.layersPerBlock),
  transformerLayersPerBlock: integerIn(MODEL_RANGES.transformerLayers),
} as const;

/** `perBlock` for one of the integer keys, checked against its range. */
export function perBlockInteger(value: unknown, count: number, key: keyof typeof PER_BLOCK_INTEGERS): number[] {
  const { check, expected } = PER_BLOCK_INTEGERS[key];
  return perBlock(value, count, key, check, expected);
}
/** Boolean check for `perBlock`. */
export const isBoolean = (item: unknown): item is boolean => typeof item === 'boolean';

/** Checks relations and unsupported features that the schema cannot express. */
export function validateUNet2DConditionOptions(options: UNet2DConditionOptions): UNet2DConditionOptions {
  const context = 'UNet2DConditionModel';
  const fail = configFailure(context);
  for (const key of UNSUPPORTED) {
    const value = options[key];
    if (value !== UNET_2D_CONDITION_DEFAULTS[key])
      fail(toSnakeCase(key), `= ${JSON.stringify(value)} is not supported (only ${JSON.stringify(UNET_2D_CONDITION_DEFAULTS[key])})`);
  }
  checkLevels(options, fail);
  const levels = options.blockOutChannels.length;
  if (options.convInKernel % 2 !== 1) fail('conv_in_kernel', 'must be odd');
  if (options.convOutKernel % 2 !== 1) fail('conv_out_kernel', 'must be odd');
  checkTimeProjection(options, fail);
  if (options.normNumGroups === null) fail('norm_num_groups', 'must be set (the blocks need a group count)');
  perBlockInteger(options.attentionHeadDim, levels, 'attentionHeadDim');
  if (options.numAttentionHeads !== null) perBlockInteger(options.numAttentionHeads, levels, 'numAttentionHeads');
  perBlockInteger(options.crossAttentionDim, levels, 'crossAttentionDim');
  perBlockInteger(options.layersPerBlock, levels, 'layersPerBlock');
  perBlockInteger(options.transformerLayersPerBlock, levels, 'transformerLayersPerBlock');
  perBlock(options.onlyCrossAttention, levels, 'onlyCrossAttention', isBoolean, 'a boolean');
  if (options.reverseTransformerLayersPerBlock !== null && options.reverseTransformerLayersPerBlock.length !== levels) {
    fail('reverse_transformer_layers_per_block', `must have ${levels} entries`);
  }
  if (options.classEmbeddingsConcat && options.classEmbedType === null && options.numClassEmbeds === null) {
    fail('class_embeddings_concat', 'needs a class embedding (num_class_embeds or class_embed_type)');
  }
  return { ...options, sampleSize: checkSampleSize(options.sampleSize, context) };
}
