/**
 * Euler sampling of a flow-matching (rectified flow) model, numerically matching Diffusers'
 * `FlowMatchEulerDiscreteScheduler` (SD3, FLUX).
 *
 * Symbols: x_σ = (1 - σ) x0 + σ ε with σ from 1 (noise) to 0; the model predicts the velocity
 * v = ε - x0, so x̂0 = x - σ v and one Euler step is x' = x + (σ' - σ) v. σ = t / T, shifted
 * toward noise by s σ / (1 + (s - 1) σ) (`shift`), or by the resolution-dependent
 * e^μ / (e^μ + 1/σ - 1) (`useDynamicShifting`, μ passed to `setTimesteps`).
 * `stochasticSampling`: x' = (1 - σ') x̂0 + σ' z instead.
 *
 * Flow matching has no β schedule: a DDPM-trained model cannot be sampled with it, nor this
 * model with the DDPM family, so configs do not convert either way (`compatibles`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ConfigSchema } from '@diffusion-ts/core';
import { NUM_TRAIN_TIMESTEPS_FIELD, SHIFT_FIELD } from './config-fields.js';
import { ConfiguredScheduler } from './configured-scheduler.js';
import { drawNoise } from './draw-noise.js';
import { assertFinite, assertFiniteNumber, assertSameShape } from './input-checks.js';
import type { Scheduler, SchedulerConfig, SetTimestepsOptions, StepOptions, StepResult, TimestepsInput } from './scheduler.js';
import { numpyLinspace } from './schedule.js';
import { readCustomList, refuseCustomSchedule } from './set-timesteps.js';
import { addNoiseAtSigmas } from './sigma-scheduler.js';
import { stepPosition } from './step-index.js';
import {
  respaceSigmas,
  shiftSigma,
  sigmaSpacingOf,
  stretchToTerminal,
  timeShift,
  type SigmaSpacingFlags,
  type TimeShiftType,
} from './sigmas.js';

const f32 = Math.fround;

/** `FlowMatchEulerDiscreteScheduler` options (Diffusers' constructor arguments, camelCase). */
export interface FlowMatchEulerOptions extends SchedulerConfig, SigmaSpacingFlags {
  /** Static shift s of σ (SD3: 3). */
  shift: number;
  /** Resolution-dependent shift; `setTimesteps` then needs μ. */
  useDynamicShifting: boolean;
  /** μ range of the pipelines' `calculate_shift` (kept for the config; see `dynamicShiftMu`). */
  baseShift: number | null;
  maxShift: number | null;
  baseImageSeqLen: number;
  maxImageSeqLen: number;
  /** σ → 1 - σ after shifting (Mochi); the final σ is then 1. */
  invertSigmas: boolean;
  /** Stretch σ so that the last one equals this value. */
  shiftTerminal: number | null;
  timeShiftType: TimeShiftType;
  /** Re-noise each step instead of the Euler update. */
  stochasticSampling: boolean;
}

/** Flow-matching Euler defaults, as in Diffusers. */
export const FLOW_MATCH_EULER_DEFAULTS: Readonly<FlowMatchEulerOptions> = Object.freeze({
  numTrainTimesteps: 1000,
  shift: 1.0,
  useDynamicShifting: false,
  baseShift: 0.5,
  maxShift: 1.15,
  baseImageSeqLen: 256,
  maxImageSeqLen: 4096,
  invertSigmas: false,
  shiftTerminal: null,
  useKarrasSigmas: false,
  useExponentialSigmas: false,
  useBetaSigmas: false,
  timeShiftType: 'exponential',
  stochasticSampling: false,
});

/** A μ of `dynamicShiftMu` (null or a finite log-shift; e^μ stays finite in float32). */
const MU_FIELD = { kind: 'number', nullable: true, range: { min: -50, max: 50 } } as const;

/** An image sequence length (latent tokens) of `dynamicShiftMu`. */
const SEQUENCE_LENGTH_FIELD = { kind: 'integer', range: { min: 1, max: 2 ** 31 - 1 } } as const;

/** Config keys and types, in Diffusers' order. */
export const FLOW_MATCH_EULER_SCHEMA: ConfigSchema<FlowMatchEulerOptions> = {
  numTrainTimesteps: NUM_TRAIN_TIMESTEPS_FIELD,
  shift: SHIFT_FIELD,
  useDynamicShifting: { kind: 'boolean' },
  baseShift: MU_FIELD,
  maxShift: MU_FIELD,
  baseImageSeqLen: SEQUENCE_LENGTH_FIELD,
  maxImageSeqLen: SEQUENCE_LENGTH_FIELD,
  invertSigmas: { kind: 'boolean' },
  shiftTerminal: { kind: 'number', nullable: true, range: { min: 0, max: 1, maxExclusive: true } },
  useKarrasSigmas: { kind: 'boolean' },
  useExponentialSigmas: { kind: 'boolean' },
  useBetaSigmas: { kind: 'boolean' },
  timeShiftType: { kind: 'string', values: ['exponential', 'linear'] },
  stochasticSampling: { kind: 'boolean' },
};

/**
 * Flow-matching Euler sampler. `setTimesteps(n, { mu, sigmas, timesteps })`: μ is required with
 * `useDynamicShifting`; custom σ (n values, descending) or timesteps replace the linear ramp and
 * are shifted like it. The model input needs no scaling (`scaleModelInput` is the identity).
 */
export class FlowMatchEulerDiscreteScheduler extends ConfiguredScheduler<FlowMatchEulerOptions> implements Scheduler {
  /** Diffusers' class name. */
  static readonly className = 'FlowMatchEulerDiscreteScheduler';
  /** Only flow-matching configs: not interchangeable with DDPM-trained models (Diffusers: none). */
  static readonly compatibles: readonly string[] = ['FlowMatchEulerDiscreteScheduler'];
  readonly className = FlowMatchEulerDiscreteScheduler.className;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: number[];
  /** σ of each timestep plus the final σ (0, or 1 with `invertSigmas`). */
  sigmas: Float64Array;
  numInferenceSteps: number | null = null;
  /** σ at the ends of the training schedule (after the static shift). */
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  private stepIndex: number | null = null;

  /** Creates a scheduler; `options` may be camelCase options or a Diffusers config object. */
  constructor(options: Partial<FlowMatchEulerOptions> = {}) {
    const name = FlowMatchEulerDiscreteScheduler.className;
    super(options, FLOW_MATCH_EULER_SCHEMA, FLOW_MATCH_EULER_DEFAULTS, name, [], FlowMatchEulerDiscreteScheduler.compatibles);
    const { numTrainTimesteps: total, shift } = this.config;
    sigmaSpacingOf(this.config, name);
    // σ = t / T for t = T … 1 in float32, statically shifted unless shifting is dynamic.
    const sigmas = Array.from({ length: total }, (_, i) => {
      const sigma = f32((total - i) / total);
      return this.config.useDynamicShifting ? sigma : shiftSigma(sigma, shift, f32);
    });
    this.timesteps = sigmas.map((sigma) => f32(sigma * total));
    this.sigmas = Float64Array.from(sigmas);
    this.sigmaMax = sigmas[0];
    this.sigmaMin = sigmas[total - 1];
  }

  /**
   * Sets `numInferenceSteps` σ from σmax to σmin (then shifted), or custom `sigmas` /
   * `timesteps` (descending; with both, the σ are used); `mu` is required with dynamic shifting.
   */
  setTimesteps(numInferenceSteps?: number, options: SetTimestepsOptions = {}): void {
    const name = this.className;
    const where = `${name}.setTimesteps`;
    refuseCustomSchedule(options, ['timesteps', 'sigmas', 'mu'], name);
    const { numTrainTimesteps: total, useDynamicShifting } = this.config;
    if (useDynamicShifting) {
      if (options.mu === undefined)
        throw new RangeError(`${where}: mu must be passed when useDynamicShifting is true (see dynamicShiftMu)`);
      assertFiniteNumber(options.mu, 'mu', where);
    }
    const customSigmas = options.sigmas === undefined ? undefined : readCustomList(options.sigmas, 'sigmas', name, 1, 'weak');
    const customTimesteps = options.timesteps === undefined ? undefined : readCustomList(options.timesteps, 'timesteps', name);
    const lengths = [customSigmas?.length, customTimesteps?.length].filter((length) => length !== undefined);
    if (lengths.some((length) => length !== (numInferenceSteps ?? lengths[0]))) {
      throw new RangeError(
        `${where}: sigmas, timesteps and numInferenceSteps must agree in length (got ${[numInferenceSteps, ...lengths].join(', ')})`,
      );
    }
    const count = numInferenceSteps ?? lengths[0];
    if (count === undefined || !Number.isInteger(count) || count < 1)
      throw new RangeError(`${where}: numInferenceSteps must be an integer >= 1, got ${String(count)}`);
    if (customSigmas?.some((sigma) => !(sigma >= 0 && sigma <= 1))) throw new RangeError(`${where}: sigmas must lie in [0, 1]`);
    let sigmas: Float64Array = Float64Array.from(
      customSigmas?.map(f32) ??
        customTimesteps?.map((t) => f32(f32(t) / total)) ??
        numpyLinspace(this.sigmaMax * total, this.sigmaMin * total, count).map((t) => t / total),
    );
    // Diffusers shifts custom σ / timesteps as float32 arrays, its own ramp in float64.
    const round = customSigmas || customTimesteps ? f32 : (value: number) => value;
    sigmas = sigmas.map((sigma) =>
      useDynamicShifting ? timeShift(this.config.timeShiftType, options.mu!, sigma, 1, round) : shiftSigma(sigma, this.config.shift, round),
    );
    if (this.config.shiftTerminal) sigmas = stretchToTerminal(sigmas, this.config.shiftTerminal);
    const spacing = sigmaSpacingOf(this.config, name);
    if (spacing !== null) sigmas = respaceSigmas(spacing, sigmas, count);
    const rounded = Array.from(sigmas, (sigma) => f32(this.config.invertSigmas ? f32(1 - f32(sigma)) : sigma));
    this.timesteps = rounded.map((sigma) => f32(sigma * total));
    this.sigmas = Float64Array.from([...rounded, this.config.invertSigmas ? 1 : 0]);
    this.numInferenceSteps = count;
    this.stepIndex = null;
  }

  /** The identity: a flow-matching model takes x_σ as it is. */
  scaleModelInput(sample: tf.Tensor, _timestep?: number): tf.Tensor {
    return sample;
  }

  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options: StepOptions = {}): StepResult {
    const context = `${this.className}.step`;
    if (this.numInferenceSteps === null) throw new Error(`${context}: numInferenceSteps is not set; call setTimesteps(n) before step()`);
    const { index } = stepPosition(this.timesteps, this.stepIndex, timestep, context);
    assertSameShape(modelOutput, 'modelOutput', sample, 'sample', context);
    if (options.checkFinite !== false) assertFinite({ modelOutput, sample, varianceNoise: options.varianceNoise }, context);
    this.stepIndex = index + 1;
    const sigma = this.sigmas[index];
    const sigmaNext = this.sigmas[index + 1];
    return tf.tidy(() => {
      const predOriginalSample = tf.sub(sample, tf.mul(modelOutput, sigma));
      if (!this.config.stochasticSampling)
        return { prevSample: tf.add(sample, tf.mul(modelOutput, f32(sigmaNext - sigma))), predOriginalSample };
      const noise = drawNoise(sample, options, context);
      return { prevSample: tf.add(tf.mul(predOriginalSample, f32(1 - sigmaNext)), tf.mul(noise, sigmaNext)), predOriginalSample };
    });
  }

  /** The forward process (1 - σ) x0 + σ noise at schedule timesteps (Diffusers' `scale_noise`). */
  addNoise(originalSamples: tf.Tensor, noise: tf.Tensor, timesteps: TimestepsInput): tf.Tensor {
    return addNoiseAtSigmas(this, originalSamples, noise, timesteps, (sigma) => [f32(1 - sigma), sigma], `${this.className}.addNoise`);
  }
}
