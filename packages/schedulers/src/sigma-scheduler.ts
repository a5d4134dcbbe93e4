/**
 * What the k-diffusion style schedulers (Euler, Euler ancestral, Heun) share: a σ per timestep,
 * the step index Diffusers keeps between calls, input scaling x / sqrt(σ² + 1), and the forward
 * process x0 + σ ε.
 *
 * Symbols (sigmas.ts): the sample lives in the variance-exploding view x = x0 + σ ε, so the
 * model sees x / sqrt(σ² + 1) = sqrt(ᾱ) x0 + sqrt(1 - ᾱ) ε, the input it was trained on.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ConfigSchema } from '@diffusion-ts/core';
import { DiscreteScheduler } from './discrete-scheduler.js';
import { mixPerItem } from './forward-process.js';
import { assertFinite, assertSameShape } from './input-checks.js';
import type { BetaSchedule } from './schedule.js';
import type { CommonOptions, PredictionType, StepOptions, TimestepsInput } from './scheduler.js';
import { initNoiseSigmaFor, trainSigmasOf, type SigmaSchedule } from './sigmas.js';
import { stepPosition } from './step-index.js';

const f32 = Math.fround;

/**
 * x̂0 from the model output at noise level σ (Karras et al. 2022, Table 1 / eq. 7 for v):
 * ε: x - σ ε̂; v: -σ / sqrt(σ² + 1) · v̂ + x / (σ² + 1); sample: the output itself.
 * Call inside `tf.tidy`.
 */
export function denoiseAtSigma(predictionType: PredictionType, modelOutput: tf.Tensor, sample: tf.Tensor, sigma: number): tf.Tensor {
  switch (predictionType) {
    case 'epsilon':
      return tf.sub(sample, tf.mul(modelOutput, sigma));
    case 'v_prediction': {
      const squarePlusOne = f32(f32(sigma * sigma) + 1);
      return tf.add(tf.mul(modelOutput, -sigma / f32(Math.sqrt(squarePlusOne))), tf.div(sample, squarePlusOne));
    }
    case 'sample':
      return modelOutput;
    default:
      throw new RangeError(`unknown predictionType '${String(predictionType)}' (expected epsilon, sample or v_prediction)`);
  }
}

/**
 * The forward process `signal(σ) x0 + noise(σ) ε` at schedule timesteps (one for the batch, or
 * one per item), σ looked up in `sigmas` by position in `timesteps` (Diffusers' `add_noise` /
 * `scale_noise` of the sigma schedulers).
 */
export function addNoiseAtSigmas(
  schedule: { readonly timesteps: readonly number[]; readonly sigmas: Float64Array },
  originalSamples: tf.Tensor,
  noise: tf.Tensor,
  timesteps: TimestepsInput,
  coefficients: (sigma: number) => [number, number],
  context: string,
): tf.Tensor {
  const pairs = Array.from(schedule.sigmas.subarray(0, schedule.timesteps.length), coefficients);
  const tables = [Float64Array.from(pairs, (pair) => pair[0]), Float64Array.from(pairs, (pair) => pair[1])] as const;
  return mixPerItem(tables, ['originalSamples', originalSamples], ['noise', noise], timesteps, 1, context, (t) => {
    const index = schedule.timesteps.indexOf(t);
    if (index < 0) throw new RangeError(`${context}: timestep ${String(t)} is not in the schedule (use values of scheduler.timesteps)`);
    return index;
  });
}

/** The shared base of the Euler-family schedulers. */
export abstract class SigmaScheduler<T extends CommonOptions> extends DiscreteScheduler<T> {
  /** σ_t of every training timestep, ascending t (float32 values). */
  readonly trainSigmas: Float64Array;
  /** σ of each entry of `timesteps`, plus the σ after the last step. */
  sigmas: Float64Array;
  /** The index into `timesteps` of the next step (null before the first). */
  protected stepIndex: number | null = null;

  protected constructor(input: unknown, schema: ConfigSchema<T>, defaults: T, className: string, schedules: readonly BetaSchedule[]) {
    super(input, schema, defaults, className, schedules);
    this.trainSigmas = trainSigmasOf(this.alphasCumprod, this.config, className);
    // As in Diffusers: before setTimesteps, every training timestep, descending, then σ = 0.
    this.sigmas = Float64Array.from([...Array.from(this.trainSigmas).reverse(), 0]);
  }

  /** σmax for `linspace` / `trailing` spacing, else sqrt(σmax² + 1). */
  override get initNoiseSigma(): number {
    return initNoiseSigmaFor(Math.max(...this.sigmas), this.config.timestepSpacing);
  }

  /** Installs a new schedule and restarts the step count. */
  protected useSchedule(schedule: SigmaSchedule, numInferenceSteps: number): void {
    this.timesteps = schedule.timesteps;
    this.sigmas = schedule.sigmas;
    this.numInferenceSteps = numInferenceSteps;
    this.stepIndex = null;
  }

  /** The index of the step at `timestep` (see `stepPosition`); an out-of-order step calls `restart`. */
  protected indexFor(timestep: number, context: string): number {
    const { index, restart } = stepPosition(this.timesteps, this.stepIndex, timestep, context);
    if (restart) this.restart();
    return index;
  }

  /** Called when a step does not continue the previous one (Heun drops its half-finished step). */
  protected restart(): void {}

  /**
   * The checks of a step (setTimesteps called, scheduled timestep, shapes, finite inputs) and
   * its index.
   */
  protected beginStep(
    modelOutput: tf.Tensor,
    timestep: number,
    sample: tf.Tensor,
    options: StepOptions,
  ): { context: string; index: number } {
    const context = `${this.className}.step`;
    if (this.numInferenceSteps === null) {
      throw new Error(`${context}: numInferenceSteps is not set; call setTimesteps(n) before step()`);
    }
    const index = this.indexFor(timestep, context);
    assertSameShape(modelOutput, 'modelOutput', sample, 'sample', context);
    if (options.checkFinite !== false) assertFinite({ modelOutput, sample, varianceNoise: options.varianceNoise }, context);
    return { context, index };
  }

  /** x / sqrt(σ² + 1) with σ of `timestep`: the input the model was trained on. */
  override scaleModelInput(sample: tf.Tensor, timestep?: number): tf.Tensor {
    const context = `${this.className}.scaleModelInput`;
    if (timestep === undefined) throw new TypeError(`${context}: timestep is required (one of scheduler.timesteps)`);
    const sigma = this.sigmas[this.indexFor(timestep, context)];
    return tf.div(sample, f32(Math.sqrt(f32(f32(sigma * sigma) + 1))));
  }

  /**
   * x0 + σ noise, σ of each timestep in the current schedule (every training timestep before
   * `setTimesteps`), as Diffusers' `add_noise`. Timesteps: one for the batch, or one per item.
   */
  override addNoise(originalSamples: tf.Tensor, noise: tf.Tensor, timesteps: TimestepsInput): tf.Tensor {
    return addNoiseAtSigmas(this, originalSamples, noise, timesteps, (sigma) => [1, sigma], `${this.className}.addNoise`);
  }
}
