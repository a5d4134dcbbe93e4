/**
 * Pseudo numerical methods for diffusion models (Liu et al. 2022), numerically matching
 * Diffusers' `PNDMScheduler`: Runge–Kutta-like PRK warm-up steps, then PLMS (linear multistep).
 *
 * The transfer φ(x_t, ε, t → t') of eq. (11), with ᾱ = ᾱ_t and ᾱ' = ᾱ_{t'}:
 *   x_{t'} = sqrt(ᾱ'/ᾱ) x_t - (ᾱ' - ᾱ) ε / (ᾱ sqrt(1 - ᾱ') + sqrt(ᾱ (1 - ᾱ) ᾱ')).
 * PLMS combines the last model outputs e_i with Adams–Bashforth weights:
 *   (3e₀ - e₁)/2, (23e₀ - 16e₁ + 5e₂)/12, (55e₀ - 59e₁ + 37e₂ - 9e₃)/24.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ConfigSchema } from '@diffusion-ts/core';
import { BETA_CONFIG_DEFAULTS, BETA_CONFIG_SCHEMA, STEPS_OFFSET_FIELD, TIMESTEP_SPACING_FIELD } from './config-fields.js';
import { DiscreteScheduler } from './discrete-scheduler.js';
import { assertFinite } from './input-checks.js';
import { denoise } from './prediction.js';
import { assertInferenceSteps, finalAlphaCumprod, spacedTimestepsAscending, type BetaSchedule } from './schedule.js';
import type { CommonOptions, SetTimestepsOptions, StepOptions, StepResult } from './scheduler.js';
import { DIFFUSERS_COMPATIBLE_NAMES } from './scheduler-config.js';
import { refuseCustomSchedule } from './set-timesteps.js';

/** `PNDMScheduler` options (Diffusers' constructor arguments, camelCase). */
export interface PNDMOptions extends CommonOptions {
  skipPrkSteps: boolean;
  setAlphaToOne: boolean;
}

const SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'geometric'];

/** PNDM defaults, as in Diffusers. */
export const PNDM_DEFAULTS: Readonly<PNDMOptions> = Object.freeze({
  ...BETA_CONFIG_DEFAULTS,
  skipPrkSteps: false,
  setAlphaToOne: false,
  predictionType: 'epsilon',
  timestepSpacing: 'leading',
  stepsOffset: 0,
});

/** Config keys and types, in Diffusers' order. */
export const PNDM_SCHEMA: ConfigSchema<PNDMOptions> = {
  ...BETA_CONFIG_SCHEMA,
  skipPrkSteps: { kind: 'boolean' },
  setAlphaToOne: { kind: 'boolean' },
  predictionType: { kind: 'string', values: ['epsilon', 'v_prediction'] },
  timestepSpacing: TIMESTEP_SPACING_FIELD,
  stepsOffset: STEPS_OFFSET_FIELD,
};

/** PNDM's multistep order. */
const PNDM_ORDER = 4;

/**
 * PNDM sampler. It keeps the last model outputs between calls, so `step` must be called with the
 * timesteps in order; `setTimesteps` (required before `step`, as in Diffusers) resets that
 * history, and it is freed after the last scheduled step (or by `dispose()`).
 * `predOriginalSample` is the x0 implied by the combined ε the step used.
 */
export class PNDMScheduler extends DiscreteScheduler<PNDMOptions> {
  /** Diffusers' class name. */
  static readonly className = 'PNDMScheduler';
  /** Schedulers that can be built from this scheduler's config. */
  static readonly compatibles: readonly string[] = DIFFUSERS_COMPATIBLE_NAMES;
  readonly className = PNDMScheduler.className;
  /** ᾱ used after the last step: 1 with `setAlphaToOne`, else ᾱ_0. */
  readonly finalAlphaCumprod: number;
  /** The Runge–Kutta warm-up timesteps (empty with `skipPrkSteps`). */
  prkTimesteps: number[] = [];
  /** The linear multistep timesteps. */
  plmsTimesteps: number[] = [];
  /** Steps taken since `setTimesteps`. */
  counter = 0;
  private history: tf.Tensor[] = [];
  private savedSample: tf.Tensor | null = null;
  private accumulatedOutput: tf.Tensor | null = null;

  /** Creates a scheduler; `options` may be camelCase options or a Diffusers config object. */
  constructor(options: Partial<PNDMOptions> = {}) {
    super(options, PNDM_SCHEMA, PNDM_DEFAULTS, PNDMScheduler.className, SCHEDULES);
    this.finalAlphaCumprod = finalAlphaCumprod(this.alphasCumprod, this.config.setAlphaToOne);
  }

  /**
   * Sets PRK then PLMS timesteps. With `skipPrkSteps` the second timestep is repeated (N = 10
   * gives 900, 800, 800, 700, …, 0); without it the last four spaced timesteps are visited in
   * half steps of T // N // 2 (900, 850, 850, 800, 800, …, 600) before PLMS over 600 … 0.
   */
  override setTimesteps(numInferenceSteps?: number, options: SetTimestepsOptions = {}): void {
    refuseCustomSchedule(options, [], this.className);
    assertInferenceSteps(numInferenceSteps, this.config.numTrainTimesteps, this.className);
    const ascending = spacedTimestepsAscending(numInferenceSteps, this.config, this.className);
    if (this.config.skipPrkSteps) {
      this.prkTimesteps = [];
      this.plmsTimesteps = [...ascending.slice(0, -1), ...ascending.slice(-2, -1), ...ascending.slice(-1)].reverse();
    } else {
      const half = Math.floor(Math.floor(this.config.numTrainTimesteps / numInferenceSteps) / 2);
      const last = ascending.slice(-PNDM_ORDER);
      const pairs = last.flatMap((t) => [t, t + half]).slice(0, -1);
      this.prkTimesteps = pairs
        .flatMap((t) => [t, t])
        .slice(1, -1)
        .reverse();
      this.plmsTimesteps = ascending.slice(0, -3).reverse();
    }
    this.timesteps = [...this.prkTimesteps, ...this.plmsTimesteps];
    this.numInferenceSteps = numInferenceSteps;
    this.dispose();
    this.counter = 0;
  }

  /** Frees the stored model outputs and sample. */
  override dispose(): void {
    tf.dispose([
      ...this.history,
      ...(this.savedSample ? [this.savedSample] : []),
      ...(this.accumulatedOutput ? [this.accumulatedOutput] : []),
    ]);
    this.history = [];
    this.savedSample = null;
    this.accumulatedOutput = null;
  }

  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options: StepOptions = {}): StepResult {
    const { context } = this.checkScheduledStep(modelOutput, timestep, sample);
    if (options.checkFinite !== false) assertFinite({ modelOutput, sample }, context);
    if (this.counter >= this.timesteps.length) {
      throw new Error(`${context}: all ${this.timesteps.length} scheduled steps are done; call setTimesteps again`);
    }
    const result =
      this.counter < this.prkTimesteps.length && !this.config.skipPrkSteps
        ? this.stepPrk(modelOutput, timestep, sample)
        : this.stepPlms(modelOutput, timestep, sample);
    this.counter += 1;
    if (this.counter === this.timesteps.length) this.dispose();
    return result;
  }

  /** Keeps a tensor alive across calls and outside any caller's `tidy`. */
  private hold(tensor: tf.Tensor): tf.Tensor {
    return tf.keep(tf.clone(tensor));
  }

  /** Appends to the history of model outputs, keeping at most four. */
  private remember(modelOutput: tf.Tensor): void {
    this.history.push(this.hold(modelOutput));
    while (this.history.length > PNDM_ORDER) this.history.shift()!.dispose();
  }

  private stepPrk(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor): StepResult {
    const half = Math.floor(Math.floor(this.config.numTrainTimesteps / this.numInferenceSteps!) / 2);
    const phase = this.counter % 4;
    const previous = timestep - (this.counter % 2 ? 0 : half);
    const start = this.prkTimesteps[Math.floor(this.counter / 4) * 4];
    let output = modelOutput;
    const accumulate = (weight: number): void => {
      const next = tf.tidy(() => {
        const scaled = tf.mul(modelOutput, weight);
        return this.accumulatedOutput ? tf.add(this.accumulatedOutput, scaled) : scaled;
      });
      this.accumulatedOutput?.dispose();
      this.accumulatedOutput = tf.keep(next);
    };
    if (phase === 0) {
      accumulate(1 / 6);
      this.remember(modelOutput);
      this.savedSample?.dispose();
      this.savedSample = this.hold(sample);
    } else if (phase === 1 || phase === 2) {
      accumulate(1 / 3);
    }
    return tf.tidy(() => {
      if (phase === 3) {
        output = tf.add(this.accumulatedOutput!, tf.mul(modelOutput, 1 / 6));
      }
      const result = this.transfer(this.savedSample ?? sample, start, previous, output);
      if (phase === 3) {
        this.accumulatedOutput!.dispose();
        this.accumulatedOutput = null;
      }
      return result;
    });
  }

  private stepPlms(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor): StepResult {
    const context = `${this.className}.step`;
    if (!this.config.skipPrkSteps && this.history.length < 3) {
      throw new Error(`${context}: PLMS steps need the ${this.prkTimesteps.length} PRK steps first (skipPrkSteps is false)`);
    }
    const stride = Math.floor(this.config.numTrainTimesteps / this.numInferenceSteps!);
    let current = timestep;
    let previous = timestep - stride;
    if (this.counter !== 1) {
      this.remember(modelOutput);
    } else {
      // The repeated timestep: redo the first step from the saved sample with the mean output.
      previous = timestep;
      current = timestep + stride;
    }
    const e = this.history;
    const count = e.length;
    let from = sample;
    let restore: tf.Tensor | null = null;
    if (count === 1 && this.counter === 0) {
      this.savedSample?.dispose();
      this.savedSample = this.hold(sample);
    } else if (count === 1 && this.counter === 1) {
      from = this.savedSample!;
      restore = this.savedSample;
      this.savedSample = null;
    }
    const result = tf.tidy(() => {
      let combined: tf.Tensor;
      if (count === 1 && this.counter === 0) combined = modelOutput;
      else if (count === 1 && this.counter === 1) combined = tf.div(tf.add(modelOutput, e[0]), 2);
      else if (count === 2) combined = tf.div(tf.sub(tf.mul(e[1], 3), e[0]), 2);
      else if (count === 3) combined = tf.div(tf.add(tf.sub(tf.mul(e[2], 23), tf.mul(e[1], 16)), tf.mul(e[0], 5)), 12);
      else {
        const sum = tf.sub(tf.add(tf.sub(tf.mul(e[3], 55), tf.mul(e[2], 59)), tf.mul(e[1], 37)), tf.mul(e[0], 9));
        combined = tf.mul(sum, 1 / 24);
      }
      return this.transfer(from, current, previous, combined);
    });
    restore?.dispose();
    return result;
  }

  /** φ(x_t, ε, t → previous) plus the x0 implied by ε; call inside `tf.tidy`. */
  private transfer(sample: tf.Tensor, timestep: number, previous: number, modelOutput: tf.Tensor): StepResult {
    const alphaBar = this.alphasCumprod[timestep];
    const alphaBarPrev = previous >= 0 ? this.alphasCumprod[previous] : this.finalAlphaCumprod;
    const { predOriginalSample, predEpsilon } = denoise(this.config.predictionType, modelOutput, sample, alphaBar);
    const sampleCoefficient = Math.sqrt(alphaBarPrev / alphaBar);
    const denominator = alphaBar * Math.sqrt(1 - alphaBarPrev) + Math.sqrt(alphaBar * (1 - alphaBar) * alphaBarPrev);
    const epsilonCoefficient = (alphaBarPrev - alphaBar) / denominator;
    const prevSample = tf.sub(tf.mul(sample, sampleCoefficient), tf.mul(predEpsilon, epsilonCoefficient));
    return { prevSample, predOriginalSample };
  }
}
