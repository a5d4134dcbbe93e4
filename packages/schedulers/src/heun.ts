/**
 * Heun's second-order method on the probability-flow ODE (Karras et al. 2022, Algorithm 1),
 * numerically matching Diffusers' `HeunDiscreteScheduler`.
 *
 * Each step from σ to σ' takes two model calls, so the schedule lists every timestep after the
 * first twice: t₀, t₁, t₁, t₂, t₂, … (σ likewise, then 0). The first call of a pair is an Euler
 * step, d = (x - x̂0(x; σ)) / σ, x̃ = x + d (σ' - σ); the second evaluates the model at x̃ and
 * averages the slopes: d' = (x̃ - x̂0(x̃; σ')) / σ', x' = x + (d + d') / 2 · (σ' - σ).
 * The last step (to σ = 0) is Euler only.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ConfigSchema } from '@diffusion-ts/core';
import {
  BETA_CONFIG_DEFAULTS,
  BETA_CONFIG_SCHEMA,
  STEPS_OFFSET_FIELD,
  THRESHOLD_CONFIG_SCHEMA,
  TIMESTEP_SPACING_FIELD,
} from './config-fields.js';
import { DIFFUSERS_COMPATIBLE_NAMES } from './scheduler-config.js';
import { PREDICTION_TYPES, type CommonOptions, type SetTimestepsOptions, type StepOptions, type StepResult } from './scheduler.js';
import { readCustomList, refuseCustomSchedule, stepCountOf } from './set-timesteps.js';
import { denoiseAtSigma, SigmaScheduler } from './sigma-scheduler.js';
import { discreteSigmaSchedule, sigmaSchedulerTimesteps, sigmaSpacingOf, type SigmaSchedule, type SigmaSpacingFlags } from './sigmas.js';
import { assertInferenceSteps, type BetaSchedule } from './schedule.js';

/** `HeunDiscreteScheduler` options (Diffusers' constructor arguments, camelCase). */
export interface HeunOptions extends CommonOptions, SigmaSpacingFlags {
  clipSample: boolean;
  clipSampleRange: number;
}

const SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'exp', 'geometric'];

/** Heun defaults, as in Diffusers (whose β range defaults to Stable Diffusion's). */
export const HEUN_DEFAULTS: Readonly<HeunOptions> = Object.freeze({
  ...BETA_CONFIG_DEFAULTS,
  betaStart: 0.00085,
  betaEnd: 0.012,
  predictionType: 'epsilon',
  useKarrasSigmas: false,
  useExponentialSigmas: false,
  useBetaSigmas: false,
  clipSample: false,
  clipSampleRange: 1.0,
  timestepSpacing: 'linspace',
  stepsOffset: 0,
});

/** Config keys and types, in Diffusers' order. */
export const HEUN_SCHEMA: ConfigSchema<HeunOptions> = {
  ...BETA_CONFIG_SCHEMA,
  predictionType: { kind: 'string', values: PREDICTION_TYPES },
  useKarrasSigmas: { kind: 'boolean' },
  useExponentialSigmas: { kind: 'boolean' },
  useBetaSigmas: { kind: 'boolean' },
  clipSample: { kind: 'boolean' },
  clipSampleRange: THRESHOLD_CONFIG_SCHEMA.clipSampleRange,
  timestepSpacing: TIMESTEP_SPACING_FIELD,
  stepsOffset: STEPS_OFFSET_FIELD,
};

/** Repeats every entry but the first (and, for σ, the last): Heun's doubled schedule. */
function doubled(schedule: SigmaSchedule): SigmaSchedule {
  const [first, ...rest] = schedule.timesteps;
  const sigmas = Array.from(schedule.sigmas);
  return {
    timesteps: [first, ...rest.flatMap((t) => [t, t])],
    sigmas: Float64Array.from([sigmas[0], ...sigmas.slice(1, -1).flatMap((s) => [s, s]), sigmas[sigmas.length - 1]]),
  };
}

/**
 * Heun sampler: two model calls per step (`order` 2), so n steps take 2n - 1 calls. It keeps
 * the first half of a step between calls; `setTimesteps` (or a timestep out of order) resets it.
 */
export class HeunDiscreteScheduler extends SigmaScheduler<HeunOptions> {
  /** Diffusers' class name. */
  static readonly className = 'HeunDiscreteScheduler';
  /** Schedulers that can be built from this scheduler's config. */
  static readonly compatibles: readonly string[] = DIFFUSERS_COMPATIBLE_NAMES;
  readonly className = HeunDiscreteScheduler.className;
  override readonly order = 2;
  /** The first half of the current step: its slope, step size and start sample. */
  private pending: { derivative: tf.Tensor; dt: number; sample: tf.Tensor } | null = null;

  /** Creates a scheduler; `options` may be camelCase options or a Diffusers config object. */
  constructor(options: Partial<HeunOptions> = {}) {
    super(options, HEUN_SCHEMA, HEUN_DEFAULTS, HeunDiscreteScheduler.className, SCHEDULES);
    sigmaSpacingOf(this.config, this.className);
    // As in Diffusers, the schedule starts as every training timestep (doubled); step() still
    // needs setTimesteps.
    const schedule = this.schedule(sigmaSchedulerTimesteps(this.config.numTrainTimesteps, this.config));
    this.timesteps = schedule.timesteps;
    this.sigmas = schedule.sigmas;
  }

  /** True when the next `step` starts a new step (Diffusers' `state_in_first_order`). */
  get stateInFirstOrder(): boolean {
    return this.pending === null;
  }

  private schedule(timesteps: readonly number[]): SigmaSchedule {
    return doubled(discreteSigmaSchedule(this.trainSigmas, timesteps, { spacing: sigmaSpacingOf(this.config, this.className) }));
  }

  /** Sets `numInferenceSteps` steps (2n - 1 timesteps), or custom `timesteps` (descending). */
  override setTimesteps(numInferenceSteps?: number, options: SetTimestepsOptions = {}): void {
    const name = this.className;
    refuseCustomSchedule(options, ['timesteps'], name);
    const spacing = sigmaSpacingOf(this.config, name);
    if (options.timesteps !== undefined && spacing !== null) {
      throw new RangeError(
        `${name}.setTimesteps: custom timesteps cannot be used with use${spacing[0].toUpperCase()}${spacing.slice(1)}Sigmas`,
      );
    }
    const custom = options.timesteps === undefined ? undefined : readCustomList(options.timesteps, 'timesteps', name);
    const count = stepCountOf(numInferenceSteps, custom?.length, name);
    if (custom === undefined) assertInferenceSteps(count, this.config.numTrainTimesteps, name);
    this.useSchedule(this.schedule(custom ?? sigmaSchedulerTimesteps(count, this.config)), count);
    this.restart();
  }

  protected override restart(): void {
    if (this.pending) tf.dispose([this.pending.derivative, this.pending.sample]);
    this.pending = null;
  }

  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options: StepOptions = {}): StepResult {
    const { index } = this.beginStep(modelOutput, timestep, sample, options);
    const first = this.pending === null;
    // First order: from σ = sigmas[i] to sigmas[i + 1]; second order: the same pair, one index back.
    const sigma = first ? this.sigmas[index] : this.sigmas[index - 1];
    const sigmaNext = first ? this.sigmas[index + 1] : this.sigmas[index];
    const pending = this.pending;
    const dt = first ? sigmaNext - sigma : pending!.dt;
    this.stepIndex = index + 1;
    const result: { prevSample: tf.Tensor; predOriginalSample: tf.Tensor; derivative?: tf.Tensor; start?: tf.Tensor } = tf.tidy(() => {
      let predOriginalSample = denoiseAtSigma(this.config.predictionType, modelOutput, sample, first ? sigma : sigmaNext);
      if (this.config.clipSample)
        predOriginalSample = tf.clipByValue(predOriginalSample, -this.config.clipSampleRange, this.config.clipSampleRange);
      if (first) {
        const derivative = tf.div(tf.sub(sample, predOriginalSample), sigma);
        return { prevSample: tf.add(sample, tf.mul(derivative, dt)), predOriginalSample, derivative, start: tf.clone(sample) };
      }
      const derivative = tf.div(tf.add(pending!.derivative, tf.div(tf.sub(sample, predOriginalSample), sigmaNext)), 2);
      return { prevSample: tf.add(pending!.sample, tf.mul(derivative, dt)), predOriginalSample };
    });
    this.restart();
    if (result.derivative && result.start) {
      // Kept out of any enclosing tidy (pipelines call step inside one). After the last (Euler)
      // step nothing can follow: keep no state.
      if (index + 1 < this.timesteps.length) this.pending = { derivative: tf.keep(result.derivative), dt, sample: tf.keep(result.start) };
      else tf.dispose([result.derivative, result.start]);
    }
    return { prevSample: result.prevSample, predOriginalSample: result.predOriginalSample };
  }

  /** Frees the half-finished step. */
  override dispose(): void {
    this.restart();
  }
}
