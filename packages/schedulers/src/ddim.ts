/**
 * DDIM sampling (Song et al. 2020), numerically matching Diffusers' `DDIMScheduler`.
 *
 * Symbols: ᾱ_t = alphasCumprod[t]; the previous timestep is always t - T // N (whatever the
 * spacing), and ᾱ_prev = finalAlphaCumprod once that goes below 0. Eq. (12):
 *   x_prev = sqrt(ᾱ_prev) x̂0 + sqrt(1 - ᾱ_prev - σ²) ε̂ + σ z,
 *   σ = η sqrt((1 - ᾱ_prev) / (1 - ᾱ_t) · (1 - ᾱ_t / ᾱ_prev))   (eq. 16).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ConfigSchema } from '@diffusion-ts/core';
import {
  BETA_CONFIG_DEFAULTS,
  BETA_CONFIG_SCHEMA,
  STEPS_OFFSET_FIELD,
  THRESHOLD_CONFIG_DEFAULTS,
  THRESHOLD_CONFIG_SCHEMA,
  TIMESTEP_SPACING_FIELD,
} from './config-fields.js';
import { DiscreteScheduler } from './discrete-scheduler.js';
import { drawNoise } from './draw-noise.js';
import { assertFinite, assertFiniteNumber } from './input-checks.js';
import { denoise, epsilonFromOriginal } from './prediction.js';
import { finalAlphaCumprod, type BetaSchedule } from './schedule.js';
import { DIFFUSERS_COMPATIBLE_NAMES } from './scheduler-config.js';
import { PREDICTION_TYPES, type CommonOptions, type StepOptions, type StepResult } from './scheduler.js';
import { boundOriginalSample, type ThresholdOptions } from './thresholding.js';

/** `DDIMScheduler` options (Diffusers' constructor arguments, camelCase). */
export interface DDIMOptions extends CommonOptions, ThresholdOptions {
  setAlphaToOne: boolean;
  rescaleBetasZeroSnr: boolean;
}

const SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'geometric'];

/** DDIM defaults, as in Diffusers. */
export const DDIM_DEFAULTS: Readonly<DDIMOptions> = Object.freeze({
  ...BETA_CONFIG_DEFAULTS,
  clipSample: true,
  setAlphaToOne: true,
  stepsOffset: 0,
  predictionType: 'epsilon',
  ...THRESHOLD_CONFIG_DEFAULTS,
  timestepSpacing: 'leading',
  rescaleBetasZeroSnr: false,
});

/** Config keys and types, in Diffusers' order. */
export const DDIM_SCHEMA: ConfigSchema<DDIMOptions> = {
  ...BETA_CONFIG_SCHEMA,
  clipSample: { kind: 'boolean' },
  setAlphaToOne: { kind: 'boolean' },
  stepsOffset: STEPS_OFFSET_FIELD,
  predictionType: { kind: 'string', values: PREDICTION_TYPES },
  ...THRESHOLD_CONFIG_SCHEMA,
  timestepSpacing: TIMESTEP_SPACING_FIELD,
  rescaleBetasZeroSnr: { kind: 'boolean' },
};

/**
 * Denoising diffusion implicit model sampler: deterministic with `eta = 0` (the default), with
 * DDPM-like noise as `eta` grows. `setTimesteps` must be called before `step`, as in Diffusers.
 */
export class DDIMScheduler extends DiscreteScheduler<DDIMOptions> {
  /** Diffusers' class name. */
  static readonly className = 'DDIMScheduler';
  /** Schedulers that can be built from this scheduler's config. */
  static readonly compatibles: readonly string[] = DIFFUSERS_COMPATIBLE_NAMES;
  readonly className = DDIMScheduler.className;
  /** ᾱ used after the last step: 1 with `setAlphaToOne`, else ᾱ_0. */
  readonly finalAlphaCumprod: number;

  /** Creates a scheduler; `options` may be camelCase options or a Diffusers config object. */
  constructor(options: Partial<DDIMOptions> = {}) {
    super(options, DDIM_SCHEMA, DDIM_DEFAULTS, DDIMScheduler.className, SCHEDULES);
    this.finalAlphaCumprod = finalAlphaCumprod(this.alphasCumprod, this.config.setAlphaToOne);
  }

  /** ᾱ at `timestep`, or `finalAlphaCumprod` below 0. */
  private alphaBarAt(timestep: number): number {
    return timestep >= 0 ? this.alphasCumprod[timestep] : this.finalAlphaCumprod;
  }

  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options: StepOptions = {}): StepResult {
    const { context, numInferenceSteps } = this.checkScheduledStep(modelOutput, timestep, sample);
    const eta = options.eta ?? 0;
    assertFiniteNumber(eta, 'eta', context);
    if (eta < 0) throw new RangeError(`${context}: eta must be >= 0, got ${eta}`);
    if (options.checkFinite !== false) {
      assertFinite({ modelOutput, sample, varianceNoise: eta > 0 ? options.varianceNoise : undefined }, context);
    }

    const previous = timestep - Math.floor(this.config.numTrainTimesteps / numInferenceSteps);
    const alphaBar = this.alphasCumprod[timestep];
    const alphaBarPrev = this.alphaBarAt(previous);
    const variance = ((1 - alphaBarPrev) / (1 - alphaBar)) * (1 - alphaBar / alphaBarPrev);
    const sigma = eta * Math.sqrt(variance);
    const directionCoefficient = Math.sqrt(1 - alphaBarPrev - sigma * sigma);

    return tf.tidy(() => {
      const denoised = denoise(this.config.predictionType, modelOutput, sample, alphaBar);
      const predOriginalSample = boundOriginalSample(denoised.predOriginalSample, this.config);
      const epsilon = options.useClippedModelOutput ? epsilonFromOriginal(predOriginalSample, sample, alphaBar) : denoised.predEpsilon;
      let prevSample = tf.add(tf.mul(predOriginalSample, Math.sqrt(alphaBarPrev)), tf.mul(epsilon, directionCoefficient));
      if (eta > 0) {
        prevSample = tf.add(prevSample, tf.mul(drawNoise(sample, options, context), sigma));
      }
      return { prevSample, predOriginalSample };
    });
  }
}
