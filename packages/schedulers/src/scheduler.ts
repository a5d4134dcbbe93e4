/**
 * The interface every scheduler implements (Diffusers' `SchedulerMixin`) and the types of its
 * contract, which `@diffusion-ts/losses` and the pipelines share. Config handling lives in
 * `scheduler-config.ts`, input checks in `input-checks.ts`, the forward process in
 * `forward-process.ts`, the x0 / ε view of a model output in `prediction.ts`.
 *
 * Notation (DDPM / DDIM papers): `alphaBar` = ᾱ_t = ∏ (1 - β_s) is `alphasCumprod[t]`;
 * x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε. Per-step coefficients are computed in float64 on the
 * CPU; tensors appear only for the per-element math.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ConfigJson } from '@diffusion-ts/core';
import type { BetaOptions } from './schedule.js';

/** What a model may predict (Diffusers' `prediction_type` values). */
export const PREDICTION_TYPES = Object.freeze(['epsilon', 'sample', 'v_prediction'] as const);

/** What the model predicts. */
export type PredictionType = (typeof PREDICTION_TYPES)[number];

/** Diffusers' `variance_type` values. */
export const VARIANCE_TYPES = Object.freeze([
  'fixed_small',
  'fixed_small_log',
  'fixed_large',
  'fixed_large_log',
  'learned',
  'learned_range',
] as const);

/**
 * How the variance of a reverse step is chosen. `learned`: the model's extra C channels are σ²
 * itself; `learned_range`: v in [-1, 1] interpolating log σ² between the `fixed_small` and
 * `fixed_large` values.
 */
export type VarianceType = (typeof VARIANCE_TYPES)[number];

/** A seeded source of standard normal float32 numbers (core's `Generator` fits). */
export interface NoiseGenerator {
  /** `count` standard normal samples. */
  normal(count: number): Float32Array;
}

/** Options of one `step()` call. */
export interface StepOptions {
  /** Seeded noise source for stochastic steps (DDPM, DDIM with eta > 0, Euler ancestral, LCM, …). */
  generator?: NoiseGenerator;
  /** DDIM: weight of the stochastic part (0 = deterministic DDIM, 1 = DDPM-like). */
  eta?: number;
  /** Explicit noise (shape of `sample`) instead of drawing from the generator. */
  varianceNoise?: tf.Tensor;
  /** DDIM: re-derive ε from the clipped x0 (as in GLIDE). */
  useClippedModelOutput?: boolean;
  /** Euler (EDM "churn", Karras et al. 2022 Alg. 2): extra noise per step, γ = min(sChurn / n, √2 - 1) (default 0). */
  sChurn?: number;
  /** Euler: churn only where sTmin <= σ <= sTmax (defaults 0 and Infinity). */
  sTmin?: number;
  /** Euler: see `sTmin`. */
  sTmax?: number;
  /** Euler: scale of the churn noise (default 1). */
  sNoise?: number;
  /**
   * Check the inputs for NaN / Infinity (default true). The check reads one number per input
   * back from the device; set false in hot GPU loops to avoid the sync.
   */
  checkFinite?: boolean;
}

/** The result of one `step()`. Both tensors belong to the caller. */
export type StepResult = {
  /** x_{t-1}: the next sample. */
  prevSample: tf.Tensor;
  /** The predicted x_0, after clipping or thresholding (LCM: its `denoised`). */
  predOriginalSample: tf.Tensor;
};

/**
 * Timesteps for `addNoise`, `getVelocity` and the losses: one for the whole batch, or one per batch
 * item (integers in [0, numTrainTimesteps); a tensor is read back once to check them).
 */
export type TimestepsInput = number | readonly number[] | Int32Array | tf.Tensor1D | tf.Scalar;

/**
 * Optional arguments of `setTimesteps`, where the scheduler accepts them (as in Diffusers):
 * a custom schedule instead of `numInferenceSteps` evenly spaced steps, and flow matching's μ.
 */
export interface SetTimestepsOptions {
  /** Custom timesteps, descending (then `numInferenceSteps` may be omitted). */
  timesteps?: readonly number[];
  /** Custom σ, descending (Euler: n + 1 values ending with the final σ; flow matching: n values). */
  sigmas?: readonly number[];
  /** Flow matching with `useDynamicShifting`: the shift exponent μ (see `dynamicShiftMu`). */
  mu?: number;
}

/** The options every scheduler has. */
export interface SchedulerConfig {
  numTrainTimesteps: number;
}

/**
 * The shared scheduler interface (Diffusers' `SchedulerMixin`): what a sampling loop needs.
 * Every scheduler implements it, flow matching included.
 */
export interface Scheduler {
  /** The Diffusers class name (`_class_name`). */
  readonly className: string;
  /** The resolved options, camelCase (each scheduler adds its own to these). */
  readonly config: Readonly<SchedulerConfig>;
  /** The timesteps to call `step` with, descending (fractional for some sigma schedulers). */
  readonly timesteps: number[];
  /** Sigma-based schedulers: σ of each timestep plus the final one (float32 values, widened). */
  readonly sigmas?: Float64Array;
  /** Set by `setTimesteps`; `null` before. */
  readonly numInferenceSteps: number | null;
  /** Standard deviation of the initial noise. */
  readonly initNoiseSigma: number;
  /** Model evaluations per step. */
  readonly order: number;
  /** Warnings from reading the config (unknown keys). */
  readonly configWarnings: readonly string[];
  /**
   * Chooses `numInferenceSteps` timesteps for sampling; `options` gives a custom schedule or μ
   * where the scheduler accepts them (others refuse them with an error).
   */
  setTimesteps(numInferenceSteps?: number, options?: SetTimestepsOptions): void;
  /** Scales the model input (identity for DDPM, DDIM and PNDM; x / sqrt(σ² + 1) for Euler). */
  scaleModelInput(sample: tf.Tensor, timestep?: number): tf.Tensor;
  /** One reverse-diffusion step from `sample` at `timestep`. */
  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options?: StepOptions): StepResult;
  /**
   * The forward process at `timesteps`: `sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) noise` (DDPM family),
   * `x0 + σ noise` (Euler family), `(1 - σ) x0 + σ noise` (flow matching).
   */
  addNoise(originalSamples: tf.Tensor, noise: tf.Tensor, timesteps: TimestepsInput): tf.Tensor;
  /** The config as Diffusers' `scheduler_config.json`. */
  toConfig(): ConfigJson;
  /** Writes `folder/scheduler_config.json` (Diffusers' `save_pretrained`; Node only, atomic). */
  save(folder: string): Promise<void>;
  /** Frees tensors the scheduler holds between steps (PNDM's history). */
  dispose(): void;
}

/**
 * A scheduler over a discrete β schedule: every scheduler but flow matching. Training and the
 * losses read these.
 */
export interface BetaScheduler extends Scheduler {
  readonly config: Readonly<CommonOptions>;
  /** β_t for every training timestep (float32 values, widened). */
  readonly betas: Float64Array;
  /** α_t = 1 - β_t. */
  readonly alphas: Float64Array;
  /** ᾱ_t = ∏_{s<=t} α_s. */
  readonly alphasCumprod: Float64Array;
  /** The v-prediction target `sqrt(ᾱ_t) noise - sqrt(1 - ᾱ_t) sample` at training timesteps. */
  getVelocity(sample: tf.Tensor, noise: tf.Tensor, timesteps: TimestepsInput): tf.Tensor;
}

/** Options every scheduler shares (`rescaleBetasZeroSnr` is DDPM's and DDIM's only). */
export interface CommonOptions extends Omit<BetaOptions, 'rescaleBetasZeroSnr'> {
  predictionType: PredictionType;
  timestepSpacing: 'leading' | 'trailing' | 'linspace';
  stepsOffset: number;
}
