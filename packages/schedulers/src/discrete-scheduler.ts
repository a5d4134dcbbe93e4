/**
 * The part every discrete-time scheduler shares: config, schedule constants, `addNoise`,
 * `getVelocity`, `toConfig`. Subclasses add `setTimesteps` and `step`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ConfigJson, ConfigSchema } from '@diffusion-ts/core';
import type { BetaSchedule } from './schedule.js';
import {
  addNoiseWith,
  configToJson,
  resolveConfig,
  scheduleArrays,
  velocityWith,
  type CommonOptions,
  type Scheduler,
  type StepOptions,
  type StepResult,
  type TimestepsInput,
} from './scheduler.js';

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
    const arrays = scheduleArrays(this.config);
    this.betas = arrays.betas;
    this.alphas = arrays.alphas;
    this.alphasCumprod = arrays.alphasCumprod;
    const total = this.config.numTrainTimesteps;
    this.timesteps = Array.from({ length: total }, (_, i) => total - 1 - i);
  }

  abstract setTimesteps(numInferenceSteps: number): void;

  abstract step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options?: StepOptions): StepResult;

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
