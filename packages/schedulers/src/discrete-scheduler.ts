/**
 * The part every discrete-time scheduler shares: the config entries they have in common, config,
 * schedule constants, evenly spaced `setTimesteps`, the checks of `step`, `addNoise`,
 * `getVelocity`, `toConfig`. Subclasses add `step` (and PNDM its own `setTimesteps`).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ConfigFieldSpec, ConfigJson, ConfigSchema } from '@diffusion-ts/core';
import { refuseCustomSchedule } from './set-timesteps.js';
import { assertInferenceSteps, spacedTimestepsAscending, type BetaSchedule } from './schedule.js';
import {
  addNoiseWith,
  assertSameShape,
  assertScheduledTimestep,
  configToJson,
  resolveConfig,
  scheduleArrays,
  velocityWith,
  type BetaScheduler,
  type CommonOptions,
  type SetTimestepsOptions,
  type StepOptions,
  type StepResult,
  type TimestepsInput,
} from './scheduler.js';
import type { ThresholdOptions } from './thresholding.js';

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
  numTrainTimesteps: { kind: 'integer' },
  betaStart: { kind: 'number' },
  betaEnd: { kind: 'number' },
  betaSchedule: { kind: 'string', values: ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'sigmoid', 'laplace', 'exp', 'geometric'] },
  trainedBetas: { kind: 'number[]', nullable: true },
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
  dynamicThresholdingRatio: { kind: 'number' },
  clipSampleRange: { kind: 'number' },
  sampleMaxValue: { kind: 'number' },
};

/** Schema entry of `timestep_spacing`. */
export const TIMESTEP_SPACING_FIELD: ConfigFieldSpec = { kind: 'string', values: ['leading', 'trailing', 'linspace'] };

/** Shared implementation of the `BetaScheduler` interface for DDPM, DDIM, PNDM and the solvers. */
export abstract class DiscreteScheduler<T extends CommonOptions> implements BetaScheduler {
  abstract readonly className: string;
  readonly config: Readonly<T>;
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  readonly alphasCumprod: Float64Array;
  readonly configWarnings: readonly string[];
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
    const arrays = scheduleArrays(this.config);
    this.betas = arrays.betas;
    this.alphas = arrays.alphas;
    this.alphasCumprod = arrays.alphasCumprod;
    const total = this.config.numTrainTimesteps;
    this.timesteps = Array.from({ length: total }, (_, i) => total - 1 - i);
  }

  /** Standard deviation of the initial noise (1 unless a subclass says otherwise). */
  get initNoiseSigma(): number {
    return 1;
  }

  /** Sets `numInferenceSteps` timesteps spaced by `timestepSpacing`, in descending order. */
  setTimesteps(numInferenceSteps?: number, options: SetTimestepsOptions = {}): void {
    refuseCustomSchedule(options, [], this.className);
    assertInferenceSteps(numInferenceSteps, this.config.numTrainTimesteps, this.className);
    this.timesteps = spacedTimestepsAscending(numInferenceSteps, this.config).reverse();
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
    return configToJson(this.config, this.schema, this.className, this.extraConfig);
  }

  /** Nothing to free by default. */
  dispose(): void {}
}
