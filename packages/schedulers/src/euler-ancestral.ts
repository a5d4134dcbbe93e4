/**
 * Ancestral sampling with Euler steps (k-diffusion's `sample_euler_ancestral`), numerically
 * matching Diffusers' `EulerAncestralDiscreteScheduler`.
 *
 * Symbols: σ = sigmas[i], σ' = sigmas[i + 1]. The step to σ' is split into a deterministic part
 * down to σ↓ and fresh noise of size σ↑ with σ↓² + σ↑² = σ'²:
 *   σ↑ = sqrt(σ'² (σ² - σ'²) / σ²),  σ↓ = sqrt(σ'² - σ↑²),
 *   x' = x + (x - x̂0) / σ · (σ↓ - σ) + σ↑ z.
 * Every step draws z (the last one too, where σ↑ = 0), one `normal(count)` per step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ConfigSchema } from '@diffusion-ts/core';
import { BETA_CONFIG_DEFAULTS, BETA_CONFIG_SCHEMA, STEPS_OFFSET_FIELD, TIMESTEP_SPACING_FIELD } from './config-fields.js';
import { drawNoise } from './draw-noise.js';
import { DIFFUSERS_COMPATIBLE_NAMES } from './scheduler-config.js';
import { PREDICTION_TYPES, type CommonOptions, type SetTimestepsOptions, type StepOptions, type StepResult } from './scheduler.js';
import { refuseCustomSchedule } from './set-timesteps.js';
import { denoiseAtSigma, SigmaScheduler } from './sigma-scheduler.js';
import { discreteSigmaSchedule, sigmaSchedulerTimesteps } from './sigmas.js';
import { assertInferenceSteps, type BetaSchedule } from './schedule.js';

const f32 = Math.fround;

/** `EulerAncestralDiscreteScheduler` options (Diffusers' constructor arguments, camelCase). */
export interface EulerAncestralOptions extends CommonOptions {
  rescaleBetasZeroSnr: boolean;
}

const SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'geometric'];

/** Euler ancestral defaults, as in Diffusers. */
export const EULER_ANCESTRAL_DEFAULTS: Readonly<EulerAncestralOptions> = Object.freeze({
  ...BETA_CONFIG_DEFAULTS,
  predictionType: 'epsilon',
  timestepSpacing: 'linspace',
  stepsOffset: 0,
  rescaleBetasZeroSnr: false,
});

/** Config keys and types, in Diffusers' order. */
export const EULER_ANCESTRAL_SCHEMA: ConfigSchema<EulerAncestralOptions> = {
  ...BETA_CONFIG_SCHEMA,
  predictionType: { kind: 'string', values: PREDICTION_TYPES },
  timestepSpacing: TIMESTEP_SPACING_FIELD,
  stepsOffset: STEPS_OFFSET_FIELD,
  rescaleBetasZeroSnr: { kind: 'boolean' },
};

/**
 * Euler ancestral sampler (the SDXL-Turbo default): stochastic, drawing its noise from the
 * step's `generator` (or `varianceNoise`). `sample` prediction, which Diffusers leaves
 * unimplemented here, works as in `EulerDiscreteScheduler`.
 */
export class EulerAncestralDiscreteScheduler extends SigmaScheduler<EulerAncestralOptions> {
  /** Diffusers' class name. */
  static readonly className = 'EulerAncestralDiscreteScheduler';
  /** Schedulers that can be built from this scheduler's config. */
  static readonly compatibles: readonly string[] = DIFFUSERS_COMPATIBLE_NAMES;
  readonly className = EulerAncestralDiscreteScheduler.className;

  /** Creates a scheduler; `options` may be camelCase options or a Diffusers config object. */
  constructor(options: Partial<EulerAncestralOptions> = {}) {
    super(options, EULER_ANCESTRAL_SCHEMA, EULER_ANCESTRAL_DEFAULTS, EulerAncestralDiscreteScheduler.className, SCHEDULES);
  }

  /** Sets `numInferenceSteps` timesteps spaced by `timestepSpacing`, σ interpolated from the table. */
  override setTimesteps(numInferenceSteps?: number, options: SetTimestepsOptions = {}): void {
    refuseCustomSchedule(options, [], this.className);
    assertInferenceSteps(numInferenceSteps, this.config.numTrainTimesteps, this.className);
    const timesteps = sigmaSchedulerTimesteps(numInferenceSteps, this.config);
    this.useSchedule(discreteSigmaSchedule(this.trainSigmas, timesteps, { spacing: null }), numInferenceSteps);
  }

  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options: StepOptions = {}): StepResult {
    const { context, index } = this.beginStep(modelOutput, timestep, sample, options);
    const sigma = this.sigmas[index];
    // σ↑ and σ↓ in float32, operation by operation, as Diffusers computes them.
    const square = (value: number) => f32(value * value);
    const from = square(sigma);
    const to = square(this.sigmas[index + 1]);
    const sigmaUp = f32(Math.sqrt(f32(f32(to * f32(from - to)) / from)));
    const sigmaDown = f32(Math.sqrt(f32(to - square(sigmaUp))));
    this.stepIndex = index + 1;
    return tf.tidy(() => {
      const predOriginalSample = denoiseAtSigma(this.config.predictionType, modelOutput, sample, sigma);
      const derivative = tf.div(tf.sub(sample, predOriginalSample), sigma);
      const noise = drawNoise(sample, options, context);
      const prevSample = tf.add(tf.add(sample, tf.mul(derivative, f32(sigmaDown - sigma))), tf.mul(noise, sigmaUp));
      return { prevSample, predOriginalSample };
    });
  }
}
