import type { ConfigSchema } from '@diffusion-ts/core';
import { DOWN_BLOCK_TYPES, UP_BLOCK_TYPES, type DownBlockType, type UpBlockType } from './block-registry.js';
import type { BlockSettings } from './blocks/block-types.js';
import { ACTIVATION_NAMES, type ActivationName } from './layers/activation.js';
import { MODEL_RANGES } from './model-ranges.js';
import type { UNetBodySpec } from './unet-body.js';

/*
 * What the configs of `UNet2DModel` and `UNet2DConditionModel` share: the keys that mean the same
 * in both, and the checks and block-layout pieces built from them.
 */

/** The config keys both UNets read the same way (Diffusers' names in camelCase). */
export interface UNet2DCommonOptions {
  actFn: ActivationName;
  blockOutChannels: number[];
  centerInputSample: boolean;
  /** `null` (with `numClassEmbeds`: a learned table) or `timestep` (class ids embedded like timesteps). */
  classEmbedType: 'timestep' | null;
  downBlockTypes: DownBlockType[];
  downsamplePadding: number;
  dropout: number;
  flipSinToCos: boolean;
  freqShift: number;
  inChannels: number;
  midBlockScaleFactor: number;
  normEps: number;
  normNumGroups: number | null;
  numClassEmbeds: number | null;
  outChannels: number;
  resnetTimeScaleShift: 'default' | 'scale_shift';
  /** Training resolution (an integer or [height, width]); informational. */
  sampleSize: number | [number, number] | null;
  timeEmbeddingDim: number | null;
  upBlockTypes: UpBlockType[];
}

/** Diffusers' defaults of the shared keys that both UNets default alike. */
export const UNET_2D_COMMON_DEFAULTS = {
  actFn: 'silu',
  centerInputSample: false,
  classEmbedType: null,
  downsamplePadding: 1,
  dropout: 0,
  flipSinToCos: true,
  freqShift: 0,
  midBlockScaleFactor: 1,
  normEps: 1e-5,
  normNumGroups: 32,
  numClassEmbeds: null,
  resnetTimeScaleShift: 'default',
  sampleSize: null,
  timeEmbeddingDim: null,
} satisfies Partial<UNet2DCommonOptions>;

/** The schema of the shared keys. */
export const UNET_2D_COMMON_SCHEMA: ConfigSchema<UNet2DCommonOptions> = {
  actFn: { kind: 'string', values: ACTIVATION_NAMES },
  blockOutChannels: { kind: 'integer[]', range: MODEL_RANGES.channels },
  centerInputSample: { kind: 'boolean' },
  classEmbedType: { kind: 'string', nullable: true, values: ['timestep'] },
  downBlockTypes: { kind: 'string[]', values: DOWN_BLOCK_TYPES },
  downsamplePadding: { kind: 'integer', range: MODEL_RANGES.downsamplePadding },
  dropout: { kind: 'number', range: MODEL_RANGES.dropout },
  flipSinToCos: { kind: 'boolean' },
  freqShift: { kind: 'number', range: MODEL_RANGES.freqShift },
  inChannels: { kind: 'integer', range: MODEL_RANGES.ioChannels },
  midBlockScaleFactor: { kind: 'number', range: MODEL_RANGES.scale },
  normEps: { kind: 'number', range: MODEL_RANGES.eps },
  normNumGroups: { kind: 'integer', nullable: true, range: MODEL_RANGES.groups },
  numClassEmbeds: { kind: 'integer', nullable: true, range: MODEL_RANGES.tableRows },
  outChannels: { kind: 'integer', range: MODEL_RANGES.ioChannels },
  resnetTimeScaleShift: { kind: 'string', values: ['default', 'scale_shift'] },
  sampleSize: { kind: 'json', nullable: true },
  timeEmbeddingDim: { kind: 'integer', nullable: true, range: MODEL_RANGES.channels },
  upBlockTypes: { kind: 'string[]', values: UP_BLOCK_TYPES },
};

/** Checks that there is at least one level and one down and one up block type per level. */
export function checkLevels(options: UNet2DCommonOptions, fail: (key: string, message: string) => never): void {
  const levels = options.blockOutChannels.length;
  if (levels === 0) fail('block_out_channels', 'must not be empty');
  if (options.downBlockTypes.length !== levels)
    fail('down_block_types', `has ${options.downBlockTypes.length} entries but block_out_channels has ${levels}`);
  if (options.upBlockTypes.length !== levels)
    fail('up_block_types', `has ${options.upBlockTypes.length} entries but block_out_channels has ${levels}`);
}

/** Checks that the sinusoidal time projection has a frequency to divide by (`floor(width / 2) > freq_shift`). */
export function checkTimeProjection(options: UNet2DCommonOptions, fail: (key: string, message: string) => never): void {
  const half = Math.floor(options.blockOutChannels[0] / 2);
  if (half > 0 && half - options.freqShift <= 0) {
    fail(
      'freq_shift',
      `= ${options.freqShift} leaves no frequencies for a first block of ${options.blockOutChannels[0]} channels (half the width must exceed it)`,
    );
  }
}

/**
 * The body spec entries both UNets take straight from the shared keys: the channels, the time
 * embedding width (`time_embedding_dim`, or four times the first block's width), the class
 * embedding (timestep-style for `class_embed_type: "timestep"`, else a table when
 * `num_class_embeds` is set) and the norm epsilon.
 */
export function commonBodySpec(
  options: UNet2DCommonOptions,
): Pick<
  UNetBodySpec,
  'inChannels' | 'outChannels' | 'blockOutChannels' | 'centerInputSample' | 'timeEmbedDim' | 'classEmbedding' | 'normEps'
> {
  return {
    inChannels: options.inChannels,
    outChannels: options.outChannels,
    blockOutChannels: options.blockOutChannels,
    centerInputSample: options.centerInputSample,
    timeEmbedDim: options.timeEmbeddingDim ?? options.blockOutChannels[0] * 4,
    classEmbedding:
      options.classEmbedType === 'timestep'
        ? { kind: 'timestep' }
        : options.numClassEmbeds !== null
          ? { kind: 'table', count: options.numClassEmbeds }
          : null,
    normEps: options.normEps,
  };
}

/** The sinusoidal time projection over the first block's width. */
export function positionalTimeProjection(options: UNet2DCommonOptions): UNetBodySpec['timeProjection'] {
  return {
    kind: 'positional',
    options: { numChannels: options.blockOutChannels[0], flipSinToCos: options.flipSinToCos, downscaleFreqShift: options.freqShift },
  };
}

/** The resnet settings of every block. Diffusers passes the last two only to block types we do not build. */
export function resnetSettings(
  options: UNet2DCommonOptions,
  tembChannels: number,
  groups: number,
): Pick<
  BlockSettings,
  | 'tembChannels'
  | 'dropout'
  | 'resnetEps'
  | 'resnetActFn'
  | 'resnetGroups'
  | 'resnetTimeScaleShift'
  | 'resnetSkipTimeAct'
  | 'resnetOutScaleFactor'
> {
  return {
    tembChannels,
    dropout: options.dropout,
    resnetEps: options.normEps,
    resnetActFn: options.actFn,
    resnetGroups: groups,
    resnetTimeScaleShift: options.resnetTimeScaleShift,
    resnetSkipTimeAct: false,
    resnetOutScaleFactor: 1,
  };
}

/** The channels of down block `i`: from the previous block's width to its own; all but the last downsample. */
export function downBlockChannels(channels: number[], i: number): { inChannels: number; outChannels: number; addDownsample: boolean } {
  return { inChannels: channels[Math.max(i - 1, 0)], outChannels: channels[i], addDownsample: i !== channels.length - 1 };
}

/** The channels of up block `i` (widths reversed): its skip input, the previous up block's width and its own. */
export function upBlockChannels(
  channels: number[],
  i: number,
): { inChannels: number; prevOutputChannel: number; outChannels: number; addUpsample: boolean } {
  const reversed = [...channels].reverse();
  const levels = channels.length;
  return {
    inChannels: reversed[Math.min(i + 1, levels - 1)],
    prevOutputChannel: reversed[Math.max(i - 1, 0)],
    outChannels: reversed[i],
    addUpsample: i !== levels - 1,
  };
}
