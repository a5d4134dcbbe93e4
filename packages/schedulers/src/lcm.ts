/**
 * Multistep latent consistency sampling (Luo et al. 2023), numerically matching Diffusers'
 * `LCMScheduler`.
 *
 * Symbols: ᾱ_t = alphasCumprod[t], ᾱ' = ᾱ of the next scheduled timestep (the same t after the
 * last). The consistency function f(x, t) = c_skip(t) x + c_out(t) x̂0 obeys the boundary
 * condition f(x, 0) = x, with s = t · timestepScaling and σ_data = 0.5:
 *   c_skip = σ_data² / (s² + σ_data²),  c_out = s / sqrt(s² + σ_data²).
 * Each step denoises to f(x, t) and, except after the last, re-noises it to ᾱ':
 *   x' = sqrt(ᾱ') f + sqrt(1 - ᾱ') z   (one `normal(count)` per step).
 * The timesteps are a subset of the distillation schedule k·i - 1 (k = T // originalInferenceSteps).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type ConfigSchema } from '@diffusion-ts/core';
import {
  BETA_CONFIG_DEFAULTS,
  BETA_CONFIG_SCHEMA,
  MAX_TRAIN_TIMESTEPS,
  STEPS_OFFSET_FIELD,
  THRESHOLD_CONFIG_SCHEMA,
  TIMESTEP_SPACING_FIELD,
} from './config-fields.js';
import { DiscreteScheduler } from './discrete-scheduler.js';
import { drawNoise } from './draw-noise.js';
import { assertFinite } from './input-checks.js';
import { denoise } from './prediction.js';
import { finalAlphaCumprod, type BetaSchedule } from './schedule.js';
import { PREDICTION_TYPES, type CommonOptions, type SetTimestepsOptions, type StepOptions, type StepResult } from './scheduler.js';
import { readCustomList, refuseCustomSchedule, stepCountOf } from './set-timesteps.js';
import { stepPosition } from './step-index.js';
import { boundOriginalSample, type ThresholdOptions } from './thresholding.js';

/** `LCMScheduler` options (Diffusers' constructor arguments, camelCase). */
export interface LCMOptions extends CommonOptions, ThresholdOptions {
  /** Steps of the distillation schedule (the timesteps are a subset of it). */
  originalInferenceSteps: number;
  setAlphaToOne: boolean;
  /** Multiplies t in the boundary-condition scalings. */
  timestepScaling: number;
  rescaleBetasZeroSnr: boolean;
}

/** LCM's own `setTimesteps` arguments, besides the shared ones. */
export interface LCMSetTimestepsOptions extends SetTimestepsOptions {
  /** Overrides the config's `originalInferenceSteps`. */
  originalInferenceSteps?: number;
  /** img2img: the fraction of the schedule to run (default 1). */
  strength?: number;
}

const SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'geometric'];

/** LCM defaults, as in Diffusers. */
export const LCM_DEFAULTS: Readonly<LCMOptions> = Object.freeze({
  ...BETA_CONFIG_DEFAULTS,
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'scaled_linear',
  originalInferenceSteps: 50,
  clipSample: false,
  clipSampleRange: 1.0,
  setAlphaToOne: true,
  stepsOffset: 0,
  predictionType: 'epsilon',
  thresholding: false,
  dynamicThresholdingRatio: 0.995,
  sampleMaxValue: 1.0,
  timestepSpacing: 'leading',
  timestepScaling: 10.0,
  rescaleBetasZeroSnr: false,
});

/** Config keys and types, in Diffusers' order. */
export const LCM_SCHEMA: ConfigSchema<LCMOptions> = {
  ...BETA_CONFIG_SCHEMA,
  originalInferenceSteps: { kind: 'integer', range: { min: 1, max: MAX_TRAIN_TIMESTEPS } },
  clipSample: { kind: 'boolean' },
  clipSampleRange: THRESHOLD_CONFIG_SCHEMA.clipSampleRange,
  setAlphaToOne: { kind: 'boolean' },
  stepsOffset: STEPS_OFFSET_FIELD,
  predictionType: { kind: 'string', values: PREDICTION_TYPES },
  thresholding: THRESHOLD_CONFIG_SCHEMA.thresholding,
  dynamicThresholdingRatio: THRESHOLD_CONFIG_SCHEMA.dynamicThresholdingRatio,
  sampleMaxValue: THRESHOLD_CONFIG_SCHEMA.sampleMaxValue,
  timestepSpacing: TIMESTEP_SPACING_FIELD,
  timestepScaling: { kind: 'number', range: { min: 0, minExclusive: true } },
  rescaleBetasZeroSnr: { kind: 'boolean' },
};

/** The boundary-condition scalings (c_skip, c_out) at `timestep`. */
export function lcmScalings(timestep: number, timestepScaling: number): { cSkip: number; cOut: number } {
  const sigmaData = 0.5;
  const scaled = timestep * timestepScaling;
  return { cSkip: sigmaData ** 2 / (scaled ** 2 + sigmaData ** 2), cOut: scaled / Math.sqrt(scaled ** 2 + sigmaData ** 2) };
}

/**
 * Latent consistency model sampler (LCM, LCM-LoRA): 1-8 steps, stochastic (noise from the step's
 * `generator`). `predOriginalSample` is the consistency output f(x, t) (Diffusers' `denoised`),
 * which after the last step is also `prevSample`. `timestepSpacing` and `stepsOffset` are kept
 * for the config but unused, as in Diffusers.
 */
export class LCMScheduler extends DiscreteScheduler<LCMOptions> {
  /** Diffusers' class name. */
  static readonly className = 'LCMScheduler';
  /** An LCM-distilled model needs this scheduler (Diffusers lists no compatibles). */
  static readonly compatibles: readonly string[] = ['LCMScheduler'];
  readonly className = LCMScheduler.className;
  /** ᾱ after the last step: 1 with `setAlphaToOne`, else ᾱ_0. */
  readonly finalAlphaCumprod: number;
  private stepIndex: number | null = null;

  /** Creates a scheduler; `options` may be camelCase options or a Diffusers config object. */
  constructor(options: Partial<LCMOptions> = {}) {
    super(options, LCM_SCHEMA, LCM_DEFAULTS, LCMScheduler.className, SCHEDULES);
    this.finalAlphaCumprod = finalAlphaCumprod(this.alphasCumprod, this.config.setAlphaToOne);
    const { originalInferenceSteps, numTrainTimesteps } = this.config;
    if (originalInferenceSteps > numTrainTimesteps) {
      throw new ConfigError(
        `${this.className}: config key 'original_inference_steps' must lie in [1, num_train_timesteps] = [1, ${numTrainTimesteps}], ` +
          `got ${originalInferenceSteps}`,
        'original_inference_steps',
      );
    }
  }

  /** Checks `setTimesteps`' `originalInferenceSteps` argument. */
  private checkOriginalSteps(value: number, context: string): void {
    if (!Number.isInteger(value) || value < 1 || value > this.config.numTrainTimesteps) {
      throw new RangeError(
        `${context}: originalInferenceSteps must be an integer in [1, ${this.config.numTrainTimesteps}], got ${String(value)}`,
      );
    }
  }

  /**
   * Sets `numInferenceSteps` timesteps spread over the distillation schedule (from its end), or
   * custom `timesteps` (descending integers below numTrainTimesteps). `strength` < 1 keeps the tail.
   */
  override setTimesteps(numInferenceSteps?: number, options: LCMSetTimestepsOptions = {}): void {
    const name = `${this.className}.setTimesteps`;
    refuseCustomSchedule(options, ['timesteps'], this.className);
    const originalSteps = options.originalInferenceSteps ?? this.config.originalInferenceSteps;
    this.checkOriginalSteps(originalSteps, name);
    const strength = options.strength ?? 1;
    if (!(strength > 0 && strength <= 1)) throw new RangeError(`${name}: strength must lie in (0, 1], got ${String(strength)}`);
    const k = Math.floor(this.config.numTrainTimesteps / originalSteps);
    const origin = Array.from({ length: Math.floor(originalSteps * strength) }, (_, i) => (i + 1) * k - 1);
    const custom = options.timesteps === undefined ? undefined : readCustomList(options.timesteps, 'timesteps', this.className);
    const count = stepCountOf(numInferenceSteps, custom?.length, this.className);
    if (custom !== undefined) {
      const bad = custom.find((t) => !Number.isInteger(t) || t < 0 || t >= this.config.numTrainTimesteps);
      if (bad !== undefined)
        throw new RangeError(`${name}: custom timesteps must be integers in [0, ${this.config.numTrainTimesteps}), got ${bad}`);
      const kept = Math.min(Math.floor(count * strength), count);
      this.timesteps = custom.slice(Math.max(count - kept, 0));
    } else {
      if (!Number.isInteger(count) || count < 1)
        throw new RangeError(`${name}: numInferenceSteps must be an integer >= 1, got ${String(count)}`);
      if (count > origin.length) {
        throw new RangeError(
          `${name}: numInferenceSteps (${count}) cannot exceed originalInferenceSteps × strength (${originalSteps} × ${strength} = ${origin.length} steps)`,
        );
      }
      // Indices floor(linspace(0, L, n, endpoint=False)) into the reversed distillation schedule.
      const reversed = origin.reverse();
      this.timesteps = Array.from({ length: count }, (_, i) => reversed[Math.floor(i * (reversed.length / count))]);
    }
    this.numInferenceSteps = count;
    this.stepIndex = null;
  }

  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options: StepOptions = {}): StepResult {
    const { context, numInferenceSteps } = this.checkScheduledStep(modelOutput, timestep, sample);
    if (options.checkFinite !== false) assertFinite({ modelOutput, sample, varianceNoise: options.varianceNoise }, context);
    const { index } = stepPosition(this.timesteps, this.stepIndex, timestep, context);
    this.stepIndex = index + 1;
    const previous = index + 1 < this.timesteps.length ? this.timesteps[index + 1] : timestep;
    const alphaBar = this.alphasCumprod[timestep];
    const alphaBarPrev = previous >= 0 ? this.alphasCumprod[previous] : this.finalAlphaCumprod;
    const { cSkip, cOut } = lcmScalings(timestep, this.config.timestepScaling);
    return tf.tidy(() => {
      const { predOriginalSample } = denoise(this.config.predictionType, modelOutput, sample, alphaBar);
      const denoised = tf.add(tf.mul(boundOriginalSample(predOriginalSample, this.config), cOut), tf.mul(sample, cSkip));
      if (index === numInferenceSteps - 1) return { prevSample: denoised, predOriginalSample: tf.clone(denoised) };
      const noise = drawNoise(sample, options, context);
      const prevSample = tf.add(tf.mul(denoised, Math.sqrt(alphaBarPrev)), tf.mul(noise, Math.sqrt(1 - alphaBarPrev)));
      return { prevSample, predOriginalSample: denoised };
    });
  }
}
