/**
 * L_simple (Ho et al. 2020 eq. 14): the distance between the model output and its target, which
 * follows the prediction type: ε for `epsilon`, x_0 for `sample`, and the velocity
 * v = sqrt(ᾱ_t) ε - sqrt(1 - ᾱ_t) x_0 for `v_prediction` (Salimans & Ho 2022). Optional
 * min-SNR-γ weighting (Hang et al. 2023) as in Diffusers' training scripts, with
 * SNR_t = ᾱ_t / (1 - ᾱ_t): epsilon min(SNR, γ) / SNR, v_prediction min(SNR, γ) / (SNR + 1),
 * sample min(SNR, γ). ᾱ is the scheduler's own `alphasCumprod` (the values its `step` uses),
 * else derived from the betas.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertSameShape, gatherPerItem, timestepTensor, type PredictionType, type TimestepsInput } from '@diffusion-ts/schedulers';
import { coefficientsOf, type DiffusionSchedule } from './coefficients.js';
import { assertBatched, meanFlat, readPredictionType } from './inputs.js';

/** The per-element distance of `lSimple`. */
export type LossType = 'mse' | 'l1' | 'huber';

/** Options of `lSimple`. */
export interface SimpleLossOptions {
  /** The clean data x_0 (NHWC). */
  x0: tf.Tensor;
  /** The noise ε that made x_t from x_0. */
  noise: tf.Tensor;
  /** The timestep of each batch item (or one for all). */
  timesteps: TimestepsInput;
  /** The DDPM scheduler that noised the data. */
  scheduler: DiffusionSchedule;
  /** Defaults to `scheduler.config.predictionType`, else `epsilon`. */
  predictionType?: PredictionType;
  /** `mse` (default), `l1`, or `huber` (torch's `huber_loss` with `huberDelta`). */
  lossType?: LossType;
  /** Huber threshold δ (default 1). */
  huberDelta?: number;
  /** Min-SNR-γ weighting (Diffusers recommends 5); off when undefined. */
  snrGamma?: number;
  /** `mean` (default): a scalar over the batch; `none`: one loss per batch item. */
  reduction?: 'mean' | 'none';
}

/**
 * What a loss returns for its options: one value per batch item with `reduction: 'none'`, else
 * (`'mean'` or no reduction) the batch mean as a scalar.
 */
export type ReducedLoss<O extends { reduction?: 'mean' | 'none' }> = O extends { reduction: 'none' }
  ? tf.Tensor1D
  : O extends { reduction: 'mean' }
    ? tf.Scalar
    : 'reduction' extends keyof O
      ? tf.Scalar | tf.Tensor1D
      : tf.Scalar;

/** The per-item losses `terms`, or their mean (internal; call inside `tf.tidy`). */
export function reduceLoss(terms: tf.Tensor1D, reduction: 'mean' | 'none'): tf.Scalar | tf.Tensor1D {
  return reduction === 'mean' ? (tf.mean(terms) as tf.Scalar) : terms;
}

const LOSS_TYPES: readonly string[] = ['mse', 'l1', 'huber'];

/** Settings of a simple loss after validation (internal). */
export interface SimpleSettings {
  predictionType: PredictionType;
  lossType: LossType;
  huberDelta: number;
  snrGamma: number | undefined;
  reduction: 'mean' | 'none';
  alphasCumprod: Float64Array;
}

/** Validates the options of `lSimple` / `lHybrid` (internal). */
export function simpleSettings(options: SimpleLossOptions, context: string): SimpleSettings {
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`${context}: options { x0, noise, timesteps, scheduler } are required`);
  const { scheduler, x0, noise } = options;
  const coefficients = coefficientsOf(scheduler);
  assertBatched(x0, 'x0', context);
  assertBatched(noise, 'noise', context);
  assertSameShape(noise, 'noise', x0, 'x0', context);
  const lossType = options.lossType ?? 'mse';
  if (!LOSS_TYPES.includes(lossType))
    throw new RangeError(`${context}: unknown lossType '${String(lossType)}' (expected one of ${LOSS_TYPES.join(', ')})`);
  const huberDelta = options.huberDelta ?? 1;
  if (!(Number.isFinite(huberDelta) && huberDelta > 0))
    throw new RangeError(`${context}: huberDelta must be a positive number, got ${String(huberDelta)}`);
  const { snrGamma } = options;
  if (snrGamma !== undefined && !(Number.isFinite(snrGamma) && snrGamma > 0)) {
    throw new RangeError(`${context}: snrGamma must be a positive number, got ${String(snrGamma)}`);
  }
  const reduction = options.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'none')
    throw new RangeError(`${context}: unknown reduction '${String(reduction)}' (expected mean or none)`);
  const alphasCumprod =
    scheduler.alphasCumprod instanceof Float64Array && scheduler.alphasCumprod.length === coefficients.numTimesteps
      ? scheduler.alphasCumprod
      : coefficients.alphasCumprod;
  return {
    predictionType: readPredictionType(options.predictionType ?? scheduler.config.predictionType, context),
    lossType,
    huberDelta,
    snrGamma,
    reduction,
    alphasCumprod,
  };
}

/** The min-SNR-γ weight of every timestep (float64; 1 where the SNR is 0). */
export function minSnrWeights(alphasCumprod: Float64Array, gamma: number, predictionType: PredictionType): Float64Array {
  return alphasCumprod.map((alphaBar) => {
    const snr = alphaBar / (1 - alphaBar);
    if (snr === 0) return 1;
    const clipped = Math.min(snr, gamma);
    if (predictionType === 'epsilon') return clipped / snr;
    if (predictionType === 'v_prediction') return clipped / (snr + 1);
    return clipped;
  });
}

/** The per-item simple loss of `prediction` (C channels) on int32 `steps` (internal, unchecked). */
export function simpleTerms(settings: SimpleSettings, prediction: tf.Tensor, options: SimpleLossOptions, steps: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const { x0, noise } = options;
    const column = (values: Float64Array) => gatherPerItem(values, steps, x0.rank);
    let target: tf.Tensor;
    if (settings.predictionType === 'epsilon') target = noise;
    else if (settings.predictionType === 'sample') target = x0;
    else {
      const alphaBar = settings.alphasCumprod;
      target = tf.sub(tf.mul(column(alphaBar.map(Math.sqrt)), noise), tf.mul(column(alphaBar.map((a) => Math.sqrt(1 - a))), x0));
    }
    let distance: tf.Tensor;
    if (settings.lossType === 'mse') distance = tf.squaredDifference(prediction, target);
    else if (settings.lossType === 'l1') distance = tf.abs(tf.sub(prediction, target));
    else {
      const error = tf.abs(tf.sub(prediction, target));
      const quadratic = tf.minimum(error, settings.huberDelta);
      distance = tf.add(tf.mul(tf.square(quadratic), 0.5), tf.mul(tf.sub(error, quadratic), settings.huberDelta));
    }
    let terms = meanFlat(distance);
    if (settings.snrGamma !== undefined) {
      const weights = minSnrWeights(settings.alphasCumprod, settings.snrGamma, settings.predictionType);
      terms = tf.mul(terms, tf.gather(tf.tensor1d(Float32Array.from(weights)), steps));
    }
    return terms;
  });
}

/**
 * L_simple for `modelOutput` (NHWC, the shape of `x0`): the mean over non-batch dimensions of
 * the MSE / L1 / Huber distance to the prediction type's target, optionally min-SNR-γ weighted,
 * then (by default) the mean over the batch. Differentiable with respect to `modelOutput`.
 */
export function lSimple<O extends SimpleLossOptions>(modelOutput: tf.Tensor, options: O): ReducedLoss<O> {
  const context = 'lSimple';
  const settings = simpleSettings(options, context);
  assertBatched(modelOutput, 'modelOutput', context);
  const { x0 } = options;
  if (modelOutput.rank === x0.rank && modelOutput.shape[x0.rank - 1] === 2 * x0.shape[x0.rank - 1]) {
    throw new RangeError(
      `${context}: modelOutput has 2·C channels [${modelOutput.shape.join(', ')}] (learned variance); use lHybrid, or pass only the first C channels`,
    );
  }
  assertSameShape(modelOutput, 'modelOutput', x0, 'x0', context);
  return tf.tidy(() => {
    const steps = timestepTensor(options.timesteps, x0.shape[0], settings.alphasCumprod.length, context);
    return reduceLoss(simpleTerms(settings, modelOutput, options, steps), settings.reduction);
  }) as ReducedLoss<O>;
}
