/**
 * Euler's method on the probability-flow ODE (Karras et al. 2022, Algorithm 2 with its optional
 * "churn"), numerically matching Diffusers' `EulerDiscreteScheduler`.
 *
 * Symbols: σ = sigmas[i], σ' = sigmas[i + 1]; with churn γ = min(sChurn / n, √2 - 1) inside
 * [sTmin, sTmax], σ̂ = σ (1 + γ) and x ← x + sqrt(σ̂² - σ²) · sNoise · z. Then
 *   x̂0 = D(x; σ̂),  d = (x - x̂0) / σ̂,  x' = x + d (σ' - σ̂).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ConfigSchema } from '@diffusion-ts/core';
import {
  BETA_CONFIG_DEFAULTS,
  BETA_CONFIG_SCHEMA,
  SIGMA_BOUND_FIELD,
  STEPS_OFFSET_FIELD,
  TIMESTEP_SPACING_FIELD,
} from './config-fields.js';
import { drawNoise } from './draw-noise.js';
import { assertFiniteNumber } from './input-checks.js';
import { DIFFUSERS_COMPATIBLE_NAMES } from './scheduler-config.js';
import { PREDICTION_TYPES, type CommonOptions, type SetTimestepsOptions, type StepOptions, type StepResult } from './scheduler.js';
import { readCustomList, refuseCustomSchedule, stepCountOf } from './set-timesteps.js';
import { denoiseAtSigma, SigmaScheduler } from './sigma-scheduler.js';
import { customSigmaSchedule, discreteSigmaSchedule, sigmaSchedulerTimesteps, sigmaSpacingOf, type SigmaSpacingFlags } from './sigmas.js';
import { assertInferenceSteps, type BetaSchedule } from './schedule.js';

/** `EulerDiscreteScheduler` options (Diffusers' constructor arguments, camelCase). */
export interface EulerOptions extends CommonOptions, SigmaSpacingFlags {
  /** `linear`: σ interpolated at each timestep; `log_linear`: σ evenly spaced in log σ. */
  interpolationType: 'linear' | 'log_linear';
  /** Ends of the Karras / exponential / beta σ (default: the schedule's own). */
  sigmaMin: number | null;
  sigmaMax: number | null;
  /** `continuous` with v_prediction: timesteps are 0.25 log σ (EDM-style models). */
  timestepType: 'discrete' | 'continuous';
  rescaleBetasZeroSnr: boolean;
  /** The σ after the last step: 0, or σ of training timestep 0. */
  finalSigmasType: 'zero' | 'sigma_min';
}

const SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'geometric'];

/** Euler defaults, as in Diffusers. */
export const EULER_DEFAULTS: Readonly<EulerOptions> = Object.freeze({
  ...BETA_CONFIG_DEFAULTS,
  predictionType: 'epsilon',
  interpolationType: 'linear',
  useKarrasSigmas: false,
  useExponentialSigmas: false,
  useBetaSigmas: false,
  sigmaMin: null,
  sigmaMax: null,
  timestepSpacing: 'linspace',
  timestepType: 'discrete',
  stepsOffset: 0,
  rescaleBetasZeroSnr: false,
  finalSigmasType: 'zero',
});

/** Config keys and types, in Diffusers' order. */
export const EULER_SCHEMA: ConfigSchema<EulerOptions> = {
  ...BETA_CONFIG_SCHEMA,
  predictionType: { kind: 'string', values: PREDICTION_TYPES },
  interpolationType: { kind: 'string', values: ['linear', 'log_linear'] },
  useKarrasSigmas: { kind: 'boolean' },
  useExponentialSigmas: { kind: 'boolean' },
  useBetaSigmas: { kind: 'boolean' },
  sigmaMin: SIGMA_BOUND_FIELD,
  sigmaMax: SIGMA_BOUND_FIELD,
  timestepSpacing: TIMESTEP_SPACING_FIELD,
  timestepType: { kind: 'string', values: ['discrete', 'continuous'] },
  stepsOffset: STEPS_OFFSET_FIELD,
  rescaleBetasZeroSnr: { kind: 'boolean' },
  finalSigmasType: { kind: 'string', values: ['zero', 'sigma_min'] },
};

/**
 * Euler sampler (the SDXL / SD-Turbo default). Deterministic unless `sChurn` > 0 is passed to
 * `step`. `setTimesteps` takes `numInferenceSteps`, or custom `timesteps` or `sigmas`.
 */
export class EulerDiscreteScheduler extends SigmaScheduler<EulerOptions> {
  /** Diffusers' class name. */
  static readonly className = 'EulerDiscreteScheduler';
  /** Schedulers that can be built from this scheduler's config. */
  static readonly compatibles: readonly string[] = DIFFUSERS_COMPATIBLE_NAMES;
  readonly className = EulerDiscreteScheduler.className;

  /** Creates a scheduler; `options` may be camelCase options or a Diffusers config object. */
  constructor(options: Partial<EulerOptions> = {}) {
    super(options, EULER_SCHEMA, EULER_DEFAULTS, EulerDiscreteScheduler.className, SCHEDULES);
    sigmaSpacingOf(this.config, this.className);
    if (this.continuousTimesteps)
      this.timesteps = Array.from(this.sigmas.subarray(0, -1), (sigma) => Math.fround(0.25 * Math.fround(Math.log(sigma))));
  }

  private get continuousTimesteps(): boolean {
    return this.config.timestepType === 'continuous' && this.config.predictionType === 'v_prediction';
  }

  /**
   * Sets the schedule: `numInferenceSteps` spaced by `timestepSpacing` (σ interpolated, or
   * Karras / exponential / beta σ), or custom `timesteps` (descending), or custom `sigmas`
   * (descending, n + 1 values: the last is the σ after the final step).
   */
  override setTimesteps(numInferenceSteps?: number, options: SetTimestepsOptions = {}): void {
    const name = this.className;
    refuseCustomSchedule(options, ['timesteps', 'sigmas'], name);
    const spacing = sigmaSpacingOf(this.config, name);
    if (options.timesteps !== undefined && options.sigmas !== undefined)
      throw new RangeError(`${name}.setTimesteps: pass either timesteps or sigmas, not both`);
    if (options.timesteps !== undefined && (spacing !== null || this.continuousTimesteps)) {
      throw new RangeError(
        `${name}.setTimesteps: custom timesteps cannot be used with ${spacing !== null ? `use${spacing[0].toUpperCase()}${spacing.slice(1)}Sigmas` : "timestepType 'continuous' and v_prediction"}`,
      );
    }
    const custom =
      options.sigmas !== undefined
        ? readCustomList(options.sigmas, 'sigmas', name, 2, 'weak')
        : options.timesteps !== undefined
          ? readCustomList(options.timesteps, 'timesteps', name)
          : undefined;
    const count = stepCountOf(numInferenceSteps, custom && (options.sigmas !== undefined ? custom.length - 1 : custom.length), name);
    if (custom === undefined) assertInferenceSteps(count, this.config.numTrainTimesteps, name);
    if (options.sigmas !== undefined && custom!.some((sigma) => sigma < 0))
      throw new RangeError(`${name}.setTimesteps: sigmas must be >= 0`);
    const schedule =
      options.sigmas !== undefined
        ? customSigmaSchedule(this.trainSigmas, custom!)
        : discreteSigmaSchedule(this.trainSigmas, custom ?? sigmaSchedulerTimesteps(count, this.config), { ...this.config, spacing });
    if (this.continuousTimesteps)
      schedule.timesteps = Array.from(schedule.sigmas.subarray(0, -1), (sigma) => Math.fround(0.25 * Math.fround(Math.log(sigma))));
    this.useSchedule(schedule, count);
  }

  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options: StepOptions = {}): StepResult {
    const { context, index } = this.beginStep(modelOutput, timestep, sample, options);
    const { sChurn = 0, sTmin = 0, sTmax = Infinity, sNoise = 1 } = options;
    for (const [key, value] of [
      ['sChurn', sChurn],
      ['sTmin', sTmin],
      ['sNoise', sNoise],
    ] as const)
      assertFiniteNumber(value, key, context);
    if (Number.isNaN(sTmax)) throw new RangeError(`${context}: sTmax must be a number, got NaN`);
    if (sChurn < 0) throw new RangeError(`${context}: sChurn must be >= 0, got ${sChurn}`);
    const sigma = this.sigmas[index];
    const gamma = sTmin <= sigma && sigma <= sTmax ? Math.min(sChurn / (this.sigmas.length - 1), 2 ** 0.5 - 1) : 0;
    const sigmaHat = Math.fround(sigma * (gamma + 1));
    const dt = this.sigmas[index + 1] - sigmaHat;
    this.stepIndex = index + 1;
    return tf.tidy(() => {
      let x = sample;
      if (gamma > 0) {
        const noise = drawNoise(sample, options, context);
        x = tf.add(x, tf.mul(tf.mul(noise, sNoise), Math.sqrt(sigmaHat * sigmaHat - sigma * sigma)));
      }
      const predOriginalSample =
        this.config.predictionType === 'epsilon'
          ? denoiseAtSigma('epsilon', modelOutput, x, sigmaHat)
          : denoiseAtSigma(this.config.predictionType, modelOutput, x, sigma);
      const derivative = tf.div(tf.sub(x, predOriginalSample), sigmaHat);
      return { prevSample: tf.add(x, tf.mul(derivative, dt)), predOriginalSample };
    });
  }
}
