/**
 * The part every β-schedule scheduler shares: the schedule constants, evenly spaced `setTimesteps`, the checks of `step`,
 * `addNoise` and `getVelocity`. Config handling, `toConfig`, `fromConfig` / `fromPretrained` /
 * `save` come from `ConfiguredScheduler`. Subclasses add `step` (and their own `setTimesteps`
 * where it differs).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ConfigSchema } from '@diffusion-ts/core';
import { ConfiguredScheduler } from './configured-scheduler.js';
import { addNoiseWith, velocityWith } from './forward-process.js';
import { assertSameShape, assertScheduledTimestep } from './input-checks.js';
import { assertInferenceSteps, spacedTimestepsAscending, type BetaSchedule } from './schedule.js';
import { scheduleArrays } from './scheduler-config.js';
import type { BetaScheduler, CommonOptions, SetTimestepsOptions, StepOptions, StepResult, TimestepsInput } from './scheduler.js';
import { refuseCustomSchedule } from './set-timesteps.js';

/** Shared implementation of the `BetaScheduler` interface for DDPM, DDIM, PNDM and the solvers. */
export abstract class DiscreteScheduler<T extends CommonOptions> extends ConfiguredScheduler<T> implements BetaScheduler {
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  readonly alphasCumprod: Float64Array;
  readonly order: number = 1;
  timesteps: number[];
  numInferenceSteps: number | null = null;

  protected constructor(
    input: unknown,
    schema: ConfigSchema<T>,
    defaults: T,
    className: string,
    allowedSchedules: readonly BetaSchedule[],
  ) {
    super(input, schema, defaults, className, allowedSchedules);
    const arrays = scheduleArrays(this.config, className);
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
    this.timesteps = spacedTimestepsAscending(numInferenceSteps, this.config, this.className).reverse();
    this.numInferenceSteps = numInferenceSteps;
  }

  abstract step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options?: StepOptions): StepResult;

  /**
   * The checks of a `step` that needs `setTimesteps` first (as in Diffusers): the step count is
   * set, `timestep` is scheduled and the tensors have one shape. Returns the error context and
   * the step count.
   */
  protected checkScheduledStep(
    modelOutput: tf.Tensor,
    timestep: number,
    sample: tf.Tensor,
  ): { context: string; numInferenceSteps: number } {
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
}
