/**
 * The part every discrete-time scheduler shares: the config entries they have in common (with
 * their ranges), config, schedule constants, evenly spaced `setTimesteps`, the checks of `step`,
 * `addNoise`, `getVelocity`, `toConfig`, and `fromConfig` / `fromPretrained` / `save`.
 * Subclasses add `step` (and PNDM its own `setTimesteps`).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { serializeConfig, type ConfigFieldSpec, type ConfigJson, type ConfigSchema, type PretrainedSource } from '@diffusion-ts/core';
import { addNoiseWith, velocityWith } from './forward-process.js';
import { assertSameShape, assertScheduledTimestep } from './input-checks.js';
import { assertInferenceSteps, spacedTimestepsAscending, type BetaSchedule } from './schedule.js';
import { resolveConfig, scheduleArrays } from './scheduler-config.js';
import { readSchedulerConfig, writeSchedulerConfig, type SchedulerFromPretrainedOptions } from './scheduler-config-file.js';
import type { CommonOptions, Scheduler, StepOptions, StepResult, TimestepsInput } from './scheduler.js';
import type { ThresholdOptions } from './thresholding.js';

/** The most training timesteps a config may ask for (Diffusers' configs use 1000; improved-diffusion 4000). */
export const MAX_TRAIN_TIMESTEPS = 1_000_000;

/** A β (or a schedule's end point) lies in the open interval (0, 1). */
const BETA_RANGE = { minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true } as const;

/** The options of the beta schedule, which lead every scheduler's config. */
type BetaConfigOptions = Pick<CommonOptions, 'numTrainTimesteps' | 'betaStart' | 'betaEnd' | 'betaSchedule' | 'trainedBetas'>;

/** Diffusers' defaults of the beta-schedule options (the same in every scheduler). */
export const BETA_CONFIG_DEFAULTS: Readonly<BetaConfigOptions> = Object.freeze({
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
  trainedBetas: null,
});

/** Schema entries of the beta-schedule options, in Diffusers' order (each scheduler's first keys). */
export const BETA_CONFIG_SCHEMA: ConfigSchema<BetaConfigOptions> = {
  numTrainTimesteps: { kind: 'integer', minimum: 1, maximum: MAX_TRAIN_TIMESTEPS },
  betaStart: { kind: 'number', ...BETA_RANGE },
  betaEnd: { kind: 'number', ...BETA_RANGE },
  betaSchedule: { kind: 'string', values: ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'sigmoid', 'laplace'] },
  trainedBetas: { kind: 'number[]', nullable: true, ...BETA_RANGE },
};

/** The thresholding options that Diffusers lists together (after `prediction_type`); `clipSample` stands apart. */
type ThresholdConfigOptions = Omit<ThresholdOptions, 'clipSample'>;

/** Diffusers' defaults of the thresholding options (DDPM and DDIM). */
export const THRESHOLD_CONFIG_DEFAULTS: Readonly<ThresholdConfigOptions> = Object.freeze({
  thresholding: false,
  dynamicThresholdingRatio: 0.995,
  clipSampleRange: 1.0,
  sampleMaxValue: 1.0,
});

/** Schema entries of the thresholding options, in Diffusers' order. */
export const THRESHOLD_CONFIG_SCHEMA: ConfigSchema<ThresholdConfigOptions> = {
  thresholding: { kind: 'boolean' },
  dynamicThresholdingRatio: { kind: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1 },
  clipSampleRange: { kind: 'number', minimum: 0, exclusiveMinimum: true },
  sampleMaxValue: { kind: 'number', minimum: 0, exclusiveMinimum: true },
};

/** Schema entry of `timestep_spacing`. */
export const TIMESTEP_SPACING_FIELD: ConfigFieldSpec = { kind: 'string', values: ['leading', 'trailing', 'linspace'] };

/** Schema entry of `steps_offset` (its upper bound, `num_train_timesteps`, is checked by `resolveConfig`). */
export const STEPS_OFFSET_FIELD: ConfigFieldSpec = { kind: 'integer', minimum: 0 };

/** Shared implementation of the `Scheduler` interface for DDPM, DDIM and PNDM. */
export abstract class DiscreteScheduler<T extends CommonOptions> implements Scheduler {
  abstract readonly className: string;
  readonly config: Readonly<T>;
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  readonly alphasCumprod: Float64Array;
  readonly configWarnings: readonly string[];
  readonly initNoiseSigma = 1;
  readonly order: number = 1;
  timesteps: number[];
  numInferenceSteps: number | null = null;
  private readonly schema: ConfigSchema<T>;
  private readonly extraConfig: ConfigJson;

  protected constructor(
    input: unknown,
    schema: ConfigSchema<T>,
    defaults: T,
    className: string,
    allowedSchedules: readonly BetaSchedule[],
  ) {
    const resolved = resolveConfig(input, schema, defaults, className, allowedSchedules);
    this.schema = schema;
    this.config = resolved.options;
    this.configWarnings = resolved.warnings;
    this.extraConfig = resolved.unknown;
    const arrays = scheduleArrays(this.config, className);
    this.betas = arrays.betas;
    this.alphas = arrays.alphas;
    this.alphasCumprod = arrays.alphasCumprod;
    const total = this.config.numTrainTimesteps;
    this.timesteps = Array.from({ length: total }, (_, i) => total - 1 - i);
  }

  /**
   * Builds this scheduler from a Diffusers `scheduler_config.json` object (or our options). A
   * config of another compatible scheduler works too (`DDIMScheduler.fromConfig(ddpm.toConfig())`).
   */
  static fromConfig<S, O>(this: new (options: O) => S, config: ConfigJson | O): S {
    return new this(config as O);
  }

  /**
   * Loads `scheduler_config.json` from a folder or http(s) URL (`{ subfolder: 'scheduler' }` for a
   * pipeline folder) into this scheduler, as Diffusers' `from_pretrained`.
   */
  static async fromPretrained<S, O>(
    this: new (options: O) => S,
    source: string | PretrainedSource,
    options: SchedulerFromPretrainedOptions = {},
  ): Promise<S> {
    return new this((await readSchedulerConfig(source, options)) as O);
  }

  /** Writes `folder/scheduler_config.json` (atomically; Node only), as Diffusers' `save_pretrained`. */
  save(folder: string): Promise<void> {
    return writeSchedulerConfig(folder, this.toConfig());
  }

  /** Sets `numInferenceSteps` timesteps spaced by `timestepSpacing`, in descending order. */
  setTimesteps(numInferenceSteps: number): void {
    assertInferenceSteps(numInferenceSteps, this.config.numTrainTimesteps, this.className);
    this.timesteps = spacedTimestepsAscending(numInferenceSteps, this.config, this.className).reverse();
    this.numInferenceSteps = numInferenceSteps;
  }

  abstract step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options?: StepOptions): StepResult;

  /**
   * The checks of a `step` that needs `setTimesteps` first (as in Diffusers): the step count is
   * set, `timestep` is scheduled and the tensors have one shape. Returns the error context and
   * the step count.
   */
  protected checkScheduledStep(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor): { context: string; numInferenceSteps: number } {
    const context = `${this.className}.step`;
    if (this.numInferenceSteps === null) {
      throw new Error(`${context}: numInferenceSteps is not set; call setTimesteps(n) before step()`);
    }
    assertScheduledTimestep(timestep, this.timesteps, context);
    assertSameShape(modelOutput, 'modelOutput', sample, 'sample', context);
    return { context, numInferenceSteps: this.numInferenceSteps };
  }

  /** Identity: these schedulers need no input scaling. */
  scaleModelInput(sample: tf.Tensor, _timestep?: number): tf.Tensor {
    return sample;
  }

  addNoise(originalSamples: tf.Tensor, noise: tf.Tensor, timesteps: TimestepsInput): tf.Tensor {
    return addNoiseWith(this.alphasCumprod, originalSamples, noise, timesteps, this.className);
  }

  getVelocity(sample: tf.Tensor, noise: tf.Tensor, timesteps: TimestepsInput): tf.Tensor {
    return velocityWith(this.alphasCumprod, sample, noise, timesteps, this.className);
  }

  /** The config as Diffusers writes it; keys of compatible schedulers read by `fromConfig` are kept. */
  toConfig(): ConfigJson {
    return serializeConfig(this.config, this.schema, this.className, this.extraConfig);
  }

  /** Nothing to free by default. */
  dispose(): void {}
}
