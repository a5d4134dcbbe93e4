/**
 * The interface every scheduler implements, plus what they share: config handling, input
 * validation, `addNoise` / `getVelocity`, and the x0 / epsilon view of a model output.
 *
 * Notation (DDPM / DDIM papers): `alphaBar` = ᾱ_t = ∏ (1 - β_s) is `alphasCumprod[t]`;
 * x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε. Per-step coefficients are computed in float64 on the
 * CPU; tensors appear only for the per-element math.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  parseConfig,
  serializeConfig,
  toSnakeCase,
  type ConfigJson,
  type ConfigSchema,
} from '@diffusion-ts/core';
import { cumulativeProduct, makeAlphas, makeBetas, type BetaOptions, type BetaSchedule } from './schedule.js';

/** What the model predicts. */
export type PredictionType = 'epsilon' | 'sample' | 'v_prediction';

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

/** Timesteps for `addNoise` / `getVelocity`: one for the whole batch, or one per batch item. */
export type TimestepsInput = number | readonly number[] | Int32Array | tf.Tensor1D;

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

/**
 * The Diffusers scheduler names whose configs our β-schedule schedulers accept
 * (`KarrasDiffusionSchedulers`, plus `LCMScheduler`, whose config is a DDPM-family one).
 */
export const DIFFUSERS_COMPATIBLE_NAMES: readonly string[] = [
  'DDIMScheduler',
  'DDPMScheduler',
  'PNDMScheduler',
  'LMSDiscreteScheduler',
  'EulerDiscreteScheduler',
  'HeunDiscreteScheduler',
  'EulerAncestralDiscreteScheduler',
  'DPMSolverMultistepScheduler',
  'DPMSolverSinglestepScheduler',
  'KDPM2DiscreteScheduler',
  'KDPM2AncestralDiscreteScheduler',
  'DEISMultistepScheduler',
  'UniPCMultistepScheduler',
  'DPMSolverSDEScheduler',
  'EDMEulerScheduler',
  'LCMScheduler',
];

/** The schedule constants of a config. */
export interface ScheduleArrays {
  betas: Float64Array;
  alphas: Float64Array;
  alphasCumprod: Float64Array;
}

/** The parsed config of one scheduler instance. */
export interface ResolvedConfig<T> {
  options: Readonly<T>;
  warnings: string[];
  unknown: ConfigJson;
}

/**
 * Parses options (camelCase) or a Diffusers config (snake_case) against a scheduler's schema and
 * checks the values Diffusers would reject later. `compatibleNames` lists the `_class_name`s
 * whose configs the scheduler accepts (default: the β-schedule schedulers).
 */
export function resolveConfig<T extends SchedulerConfig>(
  input: unknown,
  schema: ConfigSchema<T>,
  defaults: T,
  className: string,
  allowedSchedules: readonly BetaSchedule[],
  compatibleNames: readonly string[] = DIFFUSERS_COMPATIBLE_NAMES,
): ResolvedConfig<T> {
  const source = normaliseArrays(input ?? {});
  const parsed = parseConfig(source, schema, defaults, className);
  if (parsed.className !== undefined && parsed.className !== className && !compatibleNames.includes(parsed.className)) {
    throw new ConfigError(
      `${className}: cannot build from a config of '${parsed.className}' (compatible: ${compatibleNames.join(', ')})`,
      '_class_name',
    );
  }
  const options = parsed.options;
  if (!Number.isInteger(options.numTrainTimesteps) || options.numTrainTimesteps < 1) {
    throw new ConfigError(`${className}: numTrainTimesteps must be an integer >= 1, got ${options.numTrainTimesteps}`, 'num_train_timesteps');
  }
  const betaOptions = options as Partial<BetaOptions>;
  if (betaOptions.trainedBetas !== undefined && betaOptions.trainedBetas !== null) {
    if (betaOptions.trainedBetas.length !== options.numTrainTimesteps) {
      throw new ConfigError(
        `${className}: trainedBetas has ${betaOptions.trainedBetas.length} values but numTrainTimesteps is ${options.numTrainTimesteps}`,
        'trained_betas',
      );
    }
  } else if (betaOptions.betaSchedule !== undefined && !allowedSchedules.includes(betaOptions.betaSchedule)) {
    throw new ConfigError(
      `${className}: betaSchedule '${betaOptions.betaSchedule}' is not implemented for ${className} (expected one of ${allowedSchedules.join(', ')})`,
      'beta_schedule',
    );
  }
  // Keys of other (compatible) schedulers survive a round trip, written in snake_case.
  const unknown = Object.fromEntries(Object.entries(parsed.unknown).map(([key, value]) => [toSnakeCase(key), value]));
  return { options: Object.freeze({ ...options }), warnings: parsed.warnings, unknown };
}

/** Typed arrays become plain arrays so that the config parser accepts them. */
function normaliseArrays(input: unknown): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    out[key] = ArrayBuffer.isView(value) && !(value instanceof DataView) ? Array.from(value as Float64Array) : value;
  }
  return out;
}

/** Builds β, α and ᾱ for a resolved config. */
export function scheduleArrays(options: BetaOptions): ScheduleArrays {
  const betas = makeBetas(options);
  const alphas = makeAlphas(betas);
  return { betas, alphas, alphasCumprod: cumulativeProduct(alphas) };
}

/** Serialises options as Diffusers writes them, keeping keys of compatible schedulers. */
export function configToJson<T extends object>(
  options: T,
  schema: ConfigSchema<T>,
  className: string,
  unknown: ConfigJson,
): ConfigJson {
  return serializeConfig(options, schema, className, unknown);
}

/** Throws unless `timestep` is an integer training timestep. */
export function assertTrainTimestep(timestep: number, numTrainTimesteps: number, context: string): void {
  if (!Number.isInteger(timestep) || timestep < 0 || timestep >= numTrainTimesteps) {
    throw new RangeError(`${context}: timestep ${String(timestep)} is not an integer in [0, ${numTrainTimesteps})`);
  }
}

/** Throws unless `timestep` is one of the scheduled `timesteps`. */
export function assertScheduledTimestep(timestep: number, timesteps: readonly number[], context: string): void {
  if (!timesteps.includes(timestep)) {
    const shown = timesteps.length > 12 ? `${timesteps.slice(0, 12).join(', ')}, …` : timesteps.join(', ');
    throw new RangeError(`${context}: timestep ${String(timestep)} is not in the schedule [${shown}]`);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, i) => size === b[i]);
}

/** Throws unless both tensors have the same shape (and are float32). */
export function assertSameShape(a: tf.Tensor, aName: string, b: tf.Tensor, bName: string, context: string): void {
  for (const [tensor, name] of [[a, aName], [b, bName]] as const) {
    if (tensor.dtype !== 'float32') throw new TypeError(`${context}: ${name} must be a float32 tensor, got ${tensor.dtype}`);
  }
  if (!sameShape(a.shape, b.shape)) {
    throw new RangeError(`${context}: ${aName} shape [${a.shape.join(', ')}] does not match ${bName} shape [${b.shape.join(', ')}]`);
  }
}

/**
 * Throws if any tensor contains NaN (or ±Infinity). One sum per tensor and a single read-back;
 * the message names the offending input.
 */
export function assertFinite(tensors: Readonly<Record<string, tf.Tensor | undefined>>, context: string): void {
  const names = Object.keys(tensors).filter((name) => tensors[name] !== undefined);
  if (names.length === 0) return;
  const sums = tf.tidy(() => tf.stack(names.map((name) => tf.sum(tf.cast(tensors[name]!, 'float32')))).dataSync());
  names.forEach((name, i) => {
    if (!Number.isFinite(sums[i])) {
      const hasNaN = tf.tidy(() => tf.any(tf.isNaN(tensors[name]!)).dataSync()[0] !== 0);
      if (hasNaN) throw new RangeError(`${context}: ${name} contains NaN`);
      const hasInf = tf.tidy(() => tf.any(tf.isInf(tensors[name]!)).dataSync()[0] !== 0);
      if (hasInf) throw new RangeError(`${context}: ${name} contains Infinity`);
    }
  });
}

/** Throws unless `value` is a finite number. */
export function assertFiniteNumber(value: number, name: string, context: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`${context}: ${name} must be a finite number, got ${String(value)}`);
  }
}

/** Reads timesteps given as a number, array or tensor into a plain array, validating each. */
export function readTimesteps(timesteps: TimestepsInput, numTrainTimesteps: number, context: string): number[] {
  let values: number[];
  if (typeof timesteps === 'number') values = [timesteps];
  else if (timesteps instanceof tf.Tensor) {
    if (timesteps.rank > 1) throw new RangeError(`${context}: timesteps tensor must be 0-D or 1-D, got shape [${timesteps.shape.join(', ')}]`);
    values = Array.from(timesteps.dataSync());
  } else values = Array.from(timesteps);
  for (const value of values) assertTrainTimestep(value, numTrainTimesteps, context);
  return values;
}

/**
 * Per-batch-item coefficients as a tensor shaped [B or 1, 1, …, 1] (rank of `like`), so that they
 * broadcast over everything but the batch axis.
 */
function perItemColumn(values: readonly number[], like: tf.Tensor, context: string): tf.Tensor {
  const batch = like.rank === 0 ? 1 : like.shape[0];
  if (values.length !== 1 && values.length !== batch) {
    throw new RangeError(`${context}: got ${values.length} timesteps for a batch of ${batch} (give one, or one per item)`);
  }
  const shape = [values.length, ...Array<number>(Math.max(like.rank - 1, 0)).fill(1)];
  return like.rank === 0 ? tf.scalar(values[0]) : tf.tensor(Float32Array.from(values), shape);
}

/**
 * `a(t) * first + b(t) * second` with per-item coefficients from ᾱ, rounded to float32 first
 * (Diffusers casts `alphas_cumprod` to the sample dtype before the square roots).
 */
function mixByAlphaBar(
  alphasCumprod: Float64Array,
  first: tf.Tensor,
  second: tf.Tensor,
  timesteps: TimestepsInput,
  sign: 1 | -1,
  context: string,
): tf.Tensor {
  assertSameShape(first, 'first input', second, 'second input', context);
  assertFinite({ input: first, noise: second }, context);
  const values = readTimesteps(timesteps, alphasCumprod.length, context);
  const alphaBars = values.map((t) => Math.fround(alphasCumprod[t]));
  const signal = alphaBars.map((alphaBar) => Math.fround(Math.sqrt(alphaBar)));
  const noise = alphaBars.map((alphaBar) => Math.fround(Math.sqrt(Math.fround(1 - alphaBar))));
  return tf.tidy(() => {
    const a = tf.mul(perItemColumn(signal, first, context), first);
    const b = tf.mul(perItemColumn(noise, first, context), second);
    return sign === 1 ? tf.add(a, b) : tf.sub(a, b);
  });
}

/** q(x_t | x_0) sample: `sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) noise`, timesteps per item or one for all. */
export function addNoiseWith(
  alphasCumprod: Float64Array,
  originalSamples: tf.Tensor,
  noise: tf.Tensor,
  timesteps: TimestepsInput,
  context: string,
): tf.Tensor {
  return mixByAlphaBar(alphasCumprod, originalSamples, noise, timesteps, 1, `${context}.addNoise`);
}

/** The v target: `sqrt(ᾱ_t) noise - sqrt(1 - ᾱ_t) sample`. */
export function velocityWith(
  alphasCumprod: Float64Array,
  sample: tf.Tensor,
  noise: tf.Tensor,
  timesteps: TimestepsInput,
  context: string,
): tf.Tensor {
  return mixByAlphaBar(alphasCumprod, noise, sample, timesteps, -1, `${context}.getVelocity`);
}

/** x0 and ε recovered from a model output; call inside `tf.tidy`. */
export interface Denoised {
  predOriginalSample: tf.Tensor;
  predEpsilon: tf.Tensor;
}

/**
 * Converts the model output to (x̂0, ε̂) at ᾱ_t (DDIM eq. 12):
 * epsilon: x̂0 = (x_t - sqrt(1-ᾱ) ε) / sqrt(ᾱ); sample: ε̂ = (x_t - sqrt(ᾱ) x̂0) / sqrt(1-ᾱ);
 * v: x̂0 = sqrt(ᾱ) x_t - sqrt(1-ᾱ) v, ε̂ = sqrt(ᾱ) v + sqrt(1-ᾱ) x_t.
 */
export function denoise(
  predictionType: PredictionType,
  modelOutput: tf.Tensor,
  sample: tf.Tensor,
  alphaBar: number,
): Denoised {
  const signal = Math.sqrt(alphaBar);
  const noise = Math.sqrt(1 - alphaBar);
  switch (predictionType) {
    case 'epsilon':
      return {
        predOriginalSample: tf.div(tf.sub(sample, tf.mul(modelOutput, noise)), signal),
        predEpsilon: modelOutput,
      };
    case 'sample':
      return {
        predOriginalSample: modelOutput,
        predEpsilon: epsilonFromOriginal(modelOutput, sample, alphaBar),
      };
    case 'v_prediction':
      return {
        predOriginalSample: tf.sub(tf.mul(sample, signal), tf.mul(modelOutput, noise)),
        predEpsilon: tf.add(tf.mul(modelOutput, signal), tf.mul(sample, noise)),
      };
    default:
      throw new RangeError(`unknown predictionType '${String(predictionType)}' (expected epsilon, sample or v_prediction)`);
  }
}

/** ε̂ = (x_t - sqrt(ᾱ) x̂0) / sqrt(1 - ᾱ). */
export function epsilonFromOriginal(predOriginalSample: tf.Tensor, sample: tf.Tensor, alphaBar: number): tf.Tensor {
  return tf.div(tf.sub(sample, tf.mul(predOriginalSample, Math.sqrt(alphaBar))), Math.sqrt(1 - alphaBar));
}

/** Standard normal noise shaped like `like`: from `varianceNoise`, the generator, or tfjs' RNG. */
export function drawNoise(like: tf.Tensor, options: StepOptions, context: string): tf.Tensor {
  if (options.varianceNoise !== undefined) {
    if (options.generator !== undefined) {
      throw new RangeError(`${context}: pass either generator or varianceNoise, not both`);
    }
    assertSameShape(options.varianceNoise, 'varianceNoise', like, 'sample', context);
    return options.varianceNoise;
  }
  if (options.generator !== undefined) {
    return tf.tensor(options.generator.normal(like.size), like.shape, 'float32');
  }
  return tf.randomNormal(like.shape, 0, 1, 'float32');
}
