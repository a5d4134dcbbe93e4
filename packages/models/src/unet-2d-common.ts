import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, serializeConfig, type ConfigJson, type ConfigSchema } from '@diffusion-ts/core';
import { DOWN_BLOCK_TYPES, UP_BLOCK_TYPES, type DownBlockType, type UpBlockType } from './block-registry.js';
import type { BlockSettings } from './blocks/block-types.js';
import { ACTIVATION_NAMES, type ActivationName } from './layers/activation.js';
import { UNetModelBase } from './model-base.js';
import { ParameterStore } from './parameters/parameter-store.js';
import { validateSample } from './sample-checks.js';
import { batchTimesteps } from './timestep-input.js';
import { UNetBody, type UNetBodyInputs, type UNetBodySpec } from './unet-body.js';

/*
 * What `UNet2DModel` and `UNet2DConditionModel` share: the config keys that mean the same in
 * both, the checks and block-layout pieces built from them, and the model class around a body.
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
  blockOutChannels: { kind: 'integer[]' },
  centerInputSample: { kind: 'boolean' },
  classEmbedType: { kind: 'string', nullable: true, values: ['timestep'] },
  downBlockTypes: { kind: 'string[]', values: DOWN_BLOCK_TYPES },
  downsamplePadding: { kind: 'integer' },
  dropout: { kind: 'number' },
  flipSinToCos: { kind: 'boolean' },
  freqShift: { kind: 'number' },
  inChannels: { kind: 'integer' },
  midBlockScaleFactor: { kind: 'number' },
  normEps: { kind: 'number' },
  normNumGroups: { kind: 'integer', nullable: true },
  numClassEmbeds: { kind: 'integer', nullable: true },
  outChannels: { kind: 'integer' },
  resnetTimeScaleShift: { kind: 'string', values: ['default', 'scale_shift'] },
  sampleSize: { kind: 'json', nullable: true },
  timeEmbeddingDim: { kind: 'integer', nullable: true },
  upBlockTypes: { kind: 'string[]', values: UP_BLOCK_TYPES },
};

/**
 * The same record with its keys in sorted order, which is Diffusers' order (the camelCase and
 * snake_case names sort alike here); `toConfig()` and `config` list their keys in this order.
 */
export function sortedByKey<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as T;
}

/** A thrower of `ConfigError`s that name the model and the snake_case key. */
export function configFailure(context: string): (key: string, message: string) => never {
  return (key, message) => {
    throw new ConfigError(`${context}: config key '${key}' ${message}`, key);
  };
}

/** Checks that there is at least one level and one down and one up block type per level. */
export function checkLevels(options: UNet2DCommonOptions, fail: (key: string, message: string) => never): void {
  const levels = options.blockOutChannels.length;
  if (levels === 0) fail('block_out_channels', 'must not be empty');
  if (options.downBlockTypes.length !== levels) fail('down_block_types', `has ${options.downBlockTypes.length} entries but block_out_channels has ${levels}`);
  if (options.upBlockTypes.length !== levels) fail('up_block_types', `has ${options.upBlockTypes.length} entries but block_out_channels has ${levels}`);
}

/** Checks a sample size value (`null`, a positive integer or two of them). */
export function checkSampleSize(value: unknown, context: string): number | [number, number] | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (Array.isArray(value) && value.length === 2 && value.every((item) => Number.isInteger(item) && item > 0)) {
    return [value[0] as number, value[1] as number];
  }
  throw new ConfigError(`${context}: config key 'sample_size' must be a positive integer or [height, width], got ${JSON.stringify(value)}`, 'sample_size');
}

/**
 * The body spec entries both UNets take straight from the shared keys: the channels, the time
 * embedding width (`time_embedding_dim`, or four times the first block's width), the class
 * embedding (timestep-style for `class_embed_type: "timestep"`, else a table when
 * `num_class_embeds` is set) and the norm epsilon.
 */
export function commonBodySpec(
  options: UNet2DCommonOptions,
): Pick<UNetBodySpec, 'inChannels' | 'outChannels' | 'blockOutChannels' | 'centerInputSample' | 'timeEmbedDim' | 'classEmbedding' | 'normEps'> {
  return {
    inChannels: options.inChannels,
    outChannels: options.outChannels,
    blockOutChannels: options.blockOutChannels,
    centerInputSample: options.centerInputSample,
    timeEmbedDim: options.timeEmbeddingDim ?? options.blockOutChannels[0] * 4,
    classEmbedding:
      options.classEmbedType === 'timestep' ? { kind: 'timestep' } : options.numClassEmbeds !== null ? { kind: 'table', count: options.numClassEmbeds } : null,
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
): Pick<BlockSettings, 'tembChannels' | 'dropout' | 'resnetEps' | 'resnetActFn' | 'resnetGroups' | 'resnetTimeScaleShift' | 'resnetSkipTimeAct' | 'resnetOutScaleFactor'> {
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

/** Options of `fromConfig`. */
export interface FromConfigOptions {
  /** Seed of the random initialisation (default 0). */
  seed?: number;
  /** Receives config warnings (unknown keys). Default: `console.warn`. */
  onWarning?: (message: string) => void;
}

/** How one UNet reads its config: its class name, schema, defaults and cross-key checks. */
export interface UNet2DFamily<Options extends UNet2DCommonOptions> {
  className: string;
  schema: ConfigSchema<Options>;
  defaults: Options;
  validate: (options: Options) => Options;
}

/**
 * `UNetModelBase` plus what both 2-D UNets do alike: keep the resolved config, serialise it,
 * build from a config, and check the sample and the class labels of `predict`.
 */
export abstract class UNet2DModelCommon<Options extends UNet2DCommonOptions> extends UNetModelBase {
  /** The resolved options (camelCase). */
  readonly config: Readonly<Options>;
  private readonly family: UNet2DFamily<Options>;
  private readonly unknownConfig: ConfigJson;

  protected constructor(family: UNet2DFamily<Options>, spec: UNetBodySpec, options: Options, seed: number, unknownConfig: ConfigJson) {
    const store = new ParameterStore(seed);
    let body: UNetBody;
    try {
      body = new UNetBody(store.scope(), spec);
    } catch (error) {
      store.dispose();
      throw error;
    }
    super(store, body);
    this.family = family;
    this.config = Object.freeze({ ...options });
    this.unknownConfig = unknownConfig;
  }

  /** Parses and checks `config` for `family`, builds the model with `create` and records the warnings. */
  protected static buildFromConfig<Options extends UNet2DCommonOptions, Model extends UNet2DModelCommon<Options>>(
    family: UNet2DFamily<Options>,
    config: ConfigJson | Partial<Options>,
    options: FromConfigOptions,
    create: (options: Options, seed: number, unknownConfig: ConfigJson) => Model,
  ): Model {
    const parsed = UNetModelBase.parseModelConfig(config, family.schema, family.defaults, family.className);
    const model = create(family.validate(parsed.options), options.seed ?? 0, parsed.unknown);
    model.recordWarnings(parsed.warnings, options.onWarning);
    return model;
  }

  /** The Diffusers config: `_class_name`, `_diffusers_version`, then every key (sorted). */
  toConfig(): ConfigJson {
    return serializeConfig(this.config, this.family.schema, this.family.className, this.unknownConfig);
  }

  /** The number of stride-2 downsamples; H and W must be multiples of 2 to this power. */
  get downsampleCount(): number {
    return this.body.downsampleCount;
  }

  /** Checks `sample` (NHWC, the model's channels, a size the UNet can halve); returns its batch size. */
  protected checkSample(sample: tf.Tensor4D): number {
    validateSample(sample, this.config.inChannels, this.body.downsampleCount, this.family.className);
    return sample.shape[0];
  }

  /** Checks that class labels [batch] are given exactly when the model has a class embedding. */
  protected checkClassLabels(classLabels: tf.Tensor1D | undefined, batch: number): void {
    const name = this.family.className;
    if (this.body.hasClassEmbedding && !classLabels) throw new Error(`${name}: classLabels are required by this class-conditional model`);
    if (!this.body.hasClassEmbedding && classLabels) {
      throw new Error(`${name}: classLabels were given but the model has no class embedding (num_class_embeds / class_embed_type)`);
    }
    if (classLabels && (classLabels.rank !== 1 || classLabels.shape[0] !== batch)) {
      throw new Error(`${name}: classLabels must have shape [${batch}], got [${classLabels.shape.join(', ')}]`);
    }
  }

  /** Runs the body in `tf.tidy` on checked inputs, broadcasting `timestep` to the batch. */
  protected applyBody(
    sample: tf.Tensor4D,
    timestep: number | tf.Tensor1D,
    batch: number,
    conditioning: Pick<UNetBodyInputs, 'classLabels' | 'encoderHiddenStates'>,
  ): tf.Tensor4D {
    return tf.tidy(() =>
      this.body.apply({
        sample,
        timesteps: batchTimesteps(timestep, batch, this.family.className),
        ...conditioning,
        training: this.training,
      }),
    );
  }
}
