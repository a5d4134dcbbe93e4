/**
 * DDPM ancestral sampling (Ho et al. 2020), numerically matching Diffusers' `DDPMScheduler`.
 *
 * Symbols: ᾱ_t = alphasCumprod[t], ᾱ_prev = ᾱ at the previous scheduled timestep (1 after the
 * last), α_t' = ᾱ_t / ᾱ_prev and β_t' = 1 - α_t' (the effective beta between the two, which is
 * β_t when every training step is used). Posterior q(x_prev | x_t, x0), eq. (7):
 *   μ = sqrt(ᾱ_prev) β_t' / (1 - ᾱ_t) · x0 + sqrt(α_t') (1 - ᾱ_prev) / (1 - ᾱ_t) · x_t
 *   σ² = (1 - ᾱ_prev) / (1 - ᾱ_t) · β_t'   (fixed_small; fixed_large uses β_t')
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
import { assertFinite, assertSameShape, assertScheduledTimestep, assertTensor, assertTrainTimestep } from './input-checks.js';
import { denoise } from './prediction.js';
import type { BetaSchedule } from './schedule.js';
import { DIFFUSERS_COMPATIBLE_NAMES } from './scheduler-config.js';
import { PREDICTION_TYPES, VARIANCE_TYPES, type CommonOptions, type StepOptions, type StepResult, type VarianceType } from './scheduler.js';
import { boundOriginalSample, type ThresholdOptions } from './thresholding.js';

/** `DDPMScheduler` options (Diffusers' constructor arguments, camelCase). */
export interface DDPMOptions extends CommonOptions, ThresholdOptions {
  varianceType: VarianceType;
  rescaleBetasZeroSnr: boolean;
}

const SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'sigmoid', 'laplace', 'geometric'];

/** DDPM defaults, as in Diffusers. */
export const DDPM_DEFAULTS: Readonly<DDPMOptions> = Object.freeze({
  ...BETA_CONFIG_DEFAULTS,
  varianceType: 'fixed_small',
  clipSample: true,
  predictionType: 'epsilon',
  ...THRESHOLD_CONFIG_DEFAULTS,
  timestepSpacing: 'leading',
  stepsOffset: 0,
  rescaleBetasZeroSnr: false,
});

/** Config keys and types, in Diffusers' order. */
export const DDPM_SCHEMA: ConfigSchema<DDPMOptions> = {
  ...BETA_CONFIG_SCHEMA,
  varianceType: { kind: 'string', values: VARIANCE_TYPES },
  clipSample: { kind: 'boolean' },
  predictionType: { kind: 'string', values: PREDICTION_TYPES },
  ...THRESHOLD_CONFIG_SCHEMA,
  timestepSpacing: TIMESTEP_SPACING_FIELD,
  stepsOffset: STEPS_OFFSET_FIELD,
  rescaleBetasZeroSnr: { kind: 'boolean' },
};

/** The scheduler names a DDPM config can build. */
const COMPATIBLES = DIFFUSERS_COMPATIBLE_NAMES;

/**
 * Denoising diffusion probabilistic model sampler. Without `setTimesteps` it walks every training
 * timestep. Tensors may have any layout, except that with `learned` / `learned_range` variance
 * the model output carries 2·C channels on the LAST axis (NHWC): the first C are the prediction,
 * the last C the variance (`learned`: σ² itself; `learned_range`: v in [-1, 1] interpolating
 * log σ² between fixed_small and fixed_large).
 */
export class DDPMScheduler extends DiscreteScheduler<DDPMOptions> {
  /** Diffusers' class name. */
  static readonly className = 'DDPMScheduler';
  /** Schedulers that can be built from this scheduler's config. */
  static readonly compatibles: readonly string[] = COMPATIBLES;
  readonly className = DDPMScheduler.className;

  /** Creates a scheduler; `options` may be camelCase options or a Diffusers config object. */
  constructor(options: Partial<DDPMOptions> = {}) {
    super(options, DDPM_SCHEMA, DDPM_DEFAULTS, DDPMScheduler.className, SCHEDULES);
  }

  /** The timestep that follows `timestep` in the schedule (-1 after the last). */
  previousTimestep(timestep: number): number {
    if (this.numInferenceSteps === null) return timestep - 1;
    const index = this.timesteps.indexOf(timestep);
    return index === this.timesteps.length - 1 ? -1 : this.timesteps[index + 1];
  }

  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options: StepOptions = {}): StepResult {
    const context = `${this.className}.step`;
    const { varianceType, numTrainTimesteps } = this.config;
    assertTrainTimestep(timestep, numTrainTimesteps, context);
    if (this.numInferenceSteps !== null) assertScheduledTimestep(timestep, this.timesteps, context);
    const learned = varianceType === 'learned' || varianceType === 'learned_range';
    if (learned) {
      assertTensor(modelOutput, 'modelOutput', context);
      assertTensor(sample, 'sample', context);
      const channels = sample.shape[sample.rank - 1];
      const expected = [...sample.shape.slice(0, -1), 2 * channels];
      if (modelOutput.dtype !== 'float32' || sample.dtype !== 'float32') {
        throw new TypeError(`${context}: modelOutput and sample must be float32 tensors, got ${modelOutput.dtype} and ${sample.dtype}`);
      }
      if (modelOutput.rank !== sample.rank || modelOutput.shape.some((size, i) => size !== expected[i])) {
        throw new RangeError(
          `${context}: varianceType '${varianceType}' needs a model output of shape [${expected.join(', ')}] (2·C channels on the last axis), got [${modelOutput.shape.join(', ')}]`,
        );
      }
    } else {
      assertSameShape(modelOutput, 'modelOutput', sample, 'sample', context);
    }
    if (options.checkFinite !== false) {
      assertFinite({ modelOutput, sample, varianceNoise: timestep > 0 ? options.varianceNoise : undefined }, context);
    }

    const previous = this.previousTimestep(timestep);
    const alphaBar = this.alphasCumprod[timestep];
    const alphaBarPrev = previous >= 0 ? this.alphasCumprod[previous] : 1;
    const betaBar = 1 - alphaBar;
    const betaBarPrev = 1 - alphaBarPrev;
    const alphaStep = alphaBar / alphaBarPrev;
    const betaStep = 1 - alphaStep;
    const originalCoefficient = (Math.sqrt(alphaBarPrev) * betaStep) / betaBar;
    const sampleCoefficient = (Math.sqrt(alphaStep) * betaBarPrev) / betaBar;
    const smallVariance = Math.max((betaBarPrev / betaBar) * betaStep, 1e-20);

    return tf.tidy(() => {
      let prediction = modelOutput;
      let predictedVariance: tf.Tensor | undefined;
      if (learned) {
        [prediction, predictedVariance] = tf.split(modelOutput, 2, modelOutput.rank - 1);
      }
      const { predOriginalSample: raw } = denoise(this.config.predictionType, prediction, sample, alphaBar);
      const predOriginalSample = boundOriginalSample(raw, this.config);
      let prevSample = tf.add(tf.mul(predOriginalSample, originalCoefficient), tf.mul(sample, sampleCoefficient));
      if (timestep > 0) {
        const noise = drawNoise(sample, options, context);
        prevSample = tf.add(prevSample, tf.mul(this.standardDeviation(smallVariance, betaStep, predictedVariance), noise));
      }
      return { prevSample, predOriginalSample };
    });
  }

  /** σ of the step for the configured variance type (a number, or a tensor when learned). */
  private standardDeviation(smallVariance: number, betaStep: number, predictedVariance?: tf.Tensor): tf.Tensor | number {
    switch (this.config.varianceType) {
      case 'fixed_small':
      case 'fixed_small_log':
        return Math.sqrt(smallVariance);
      case 'fixed_large':
        return Math.sqrt(betaStep);
      case 'fixed_large_log':
        // Diffusers takes sqrt(log β) here, which is NaN for every β < 1; GLIDE's intent
        // (log variance log β) gives σ = sqrt(β), which is what we use.
        return Math.sqrt(betaStep);
      case 'learned':
        return tf.sqrt(predictedVariance!);
      case 'learned_range': {
        // log σ² = f log β' + (1 - f) log σ²_small with f = (v + 1) / 2.
        const fraction = tf.div(tf.add(predictedVariance!, 1), 2);
        const minLog = Math.log(smallVariance);
        const maxLog = Math.log(betaStep);
        const logVariance = tf.add(tf.mul(fraction, maxLog), tf.mul(tf.sub(1, fraction), minLog));
        return tf.exp(tf.mul(logVariance, 0.5));
      }
    }
  }
}
