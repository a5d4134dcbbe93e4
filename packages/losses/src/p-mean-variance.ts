/**
 * The reverse process p(x_{t-1} | x_t) from a model output (improved-diffusion's
 * `p_mean_variance`): the x_0 prediction, the mean μ̃(x_t, x̂_0) of the posterior, and the
 * variance chosen by the variance type:
 * - fixed_small: β̃_t (log clipped at t = 0);
 * - fixed_large: β_t, with β̃_1 at t = 0 (improved-diffusion's choice, for a better decoder NLL);
 * - learned_range: the model's extra C channels v in [-1, 1] interpolate log σ² between
 *   log β̃_t (v = -1) and log β_t (v = 1) (Improved DDPM eq. 15).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  assertSameShape,
  gatherPerItem,
  timestepTensor,
  type PredictionType,
  type TimestepsInput,
  type VarianceType,
} from '@diffusion-ts/schedulers';
import { coefficientsOf, type DiffusionCoefficients, type DiffusionSchedule } from './coefficients.js';
import { assertBatched, readPredictionType, readVarianceType } from './inputs.js';
import { posteriorMoments, type GaussianMoments } from './posterior.js';

/** Options of `pMeanVariance`. */
export interface PMeanVarianceOptions {
  /** The DDPM scheduler whose betas define the process. */
  scheduler: DiffusionSchedule;
  /** Defaults to `scheduler.config.varianceType`, else `fixed_small`. */
  varianceType?: VarianceType;
  /** Defaults to `scheduler.config.predictionType`, else `epsilon`. */
  predictionType?: PredictionType;
  /** Clip the x_0 prediction to [-1, 1] before forming the mean (default true). */
  clipDenoised?: boolean;
}

/** p(x_{t-1} | x_t): mean, variance and log variance (shape of x_t), and the x_0 prediction. */
export type PMeanVarianceResult = GaussianMoments & {
  /** x̂_0, after clipping when `clipDenoised`. */
  predXstart: tf.Tensor;
};

/** The resolved settings of a reverse-process evaluation (internal). */
export interface ReverseSettings {
  coefficients: DiffusionCoefficients;
  varianceType: VarianceType;
  predictionType: PredictionType;
  clipDenoised: boolean;
}

/** Resolves and validates the options shared by the bound's functions (internal). */
export function reverseSettings(options: PMeanVarianceOptions, context: string): ReverseSettings {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${context}: options with a scheduler are required`);
  const coefficients = coefficientsOf(options.scheduler);
  const { config } = options.scheduler;
  return {
    coefficients,
    varianceType: readVarianceType(options.varianceType ?? config.varianceType, context),
    predictionType: readPredictionType(options.predictionType ?? config.predictionType, context),
    clipDenoised: options.clipDenoised ?? true,
  };
}

/** Throws unless `modelOutput` has the shape the variance type needs (C or 2·C last-axis channels). */
export function assertModelOutput(
  modelOutput: tf.Tensor,
  xt: tf.Tensor,
  varianceType: VarianceType,
  context: string,
  sampleName = 'xt',
): void {
  if (varianceType !== 'learned_range') {
    assertSameShape(modelOutput, 'modelOutput', xt, sampleName, context);
    return;
  }
  const channels = xt.shape[xt.rank - 1];
  const expected = [...xt.shape.slice(0, -1), 2 * channels];
  if (modelOutput.rank !== xt.rank || modelOutput.shape.some((size, i) => size !== expected[i])) {
    throw new RangeError(
      `${context}: varianceType 'learned_range' needs modelOutput of shape [${expected.join(', ')}] (prediction then variance values on the last axis), got [${modelOutput.shape.join(', ')}]`,
    );
  }
}

/** Splits a learned-range output into its prediction and variance halves (last axis). */
export function splitLearned(modelOutput: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const channels = modelOutput.shape[modelOutput.rank - 1] / 2;
  const [prediction, varianceValues] = tf.split(modelOutput, [channels, channels], modelOutput.rank - 1);
  return [prediction, varianceValues];
}

/** x̂_0 from the model's prediction (internal, unchecked). */
export function predictXstart(settings: ReverseSettings, prediction: tf.Tensor, xt: tf.Tensor, steps: tf.Tensor1D): tf.Tensor {
  return tf.tidy(() => {
    const { coefficients: c, predictionType } = settings;
    const column = (values: Float64Array) => gatherPerItem(values, steps, xt.rank);
    let x0: tf.Tensor;
    if (predictionType === 'epsilon') {
      x0 = tf.sub(tf.mul(column(c.sqrtRecipAlphasCumprod), xt), tf.mul(column(c.sqrtRecipm1AlphasCumprod), prediction));
    } else if (predictionType === 'sample') {
      x0 = prediction;
    } else {
      x0 = tf.sub(tf.mul(column(c.sqrtAlphasCumprod), xt), tf.mul(column(c.sqrtOneMinusAlphasCumprod), prediction));
    }
    return settings.clipDenoised ? tf.clipByValue(x0, -1, 1) : tf.clone(x0);
  });
}

/** The log variance of p for the settings (internal, unchecked); `varianceValues` for learned_range. */
export function reverseLogVariance(
  settings: ReverseSettings,
  xt: tf.Tensor,
  steps: tf.Tensor1D,
  varianceValues: tf.Tensor | null,
): tf.Tensor {
  return tf.tidy(() => {
    const { coefficients: c, varianceType } = settings;
    const column = (values: Float64Array) => gatherPerItem(values, steps, xt.rank);
    if (varianceType === 'learned_range') {
      const fraction = tf.mul(tf.add(varianceValues!, 1), 0.5);
      const minLog = column(c.posteriorLogVarianceClipped);
      const maxLog = column(c.logBetas);
      return tf.add(tf.mul(fraction, maxLog), tf.mul(tf.sub(1, fraction), minLog));
    }
    const fixed =
      varianceType === 'fixed_large' || varianceType === 'fixed_large_log' ? c.fixedLargeLogVariance : c.posteriorLogVarianceClipped;
    return tf.broadcastTo(column(fixed), xt.shape);
  });
}

/** The variance of p: exp(log σ²) for learned_range, else the fixed table (β̃_0 = 0 unclipped). */
function reverseVariance(settings: ReverseSettings, xt: tf.Tensor, steps: tf.Tensor1D, logVariance: tf.Tensor): tf.Tensor {
  const { coefficients: c, varianceType } = settings;
  if (varianceType === 'learned_range') return tf.exp(logVariance);
  const fixed = varianceType === 'fixed_large' || varianceType === 'fixed_large_log' ? c.fixedLargeVariance : c.posteriorVariance;
  return tf.tidy(() => tf.broadcastTo(gatherPerItem(fixed, steps, xt.rank), xt.shape));
}

/** `pMeanVariance` on int32 timesteps, without input checks (internal). */
export function reverseMoments(settings: ReverseSettings, modelOutput: tf.Tensor, xt: tf.Tensor, steps: tf.Tensor1D): PMeanVarianceResult {
  return tf.tidy(() => {
    const [prediction, varianceValues] = settings.varianceType === 'learned_range' ? splitLearned(modelOutput) : [modelOutput, null];
    const predXstart = predictXstart(settings, prediction, xt, steps);
    const logVariance = reverseLogVariance(settings, xt, steps, varianceValues);
    const { mean } = posteriorMoments(settings.coefficients, predXstart, xt, steps);
    return { mean, variance: reverseVariance(settings, xt, steps, logVariance), logVariance, predXstart };
  });
}

/**
 * p(x_{t-1} | x_t) from `modelOutput` (NHWC; for learned_range 2·C channels on the last axis:
 * the prediction, then the variance values in [-1, 1]) at timesteps `t`.
 */
export function pMeanVariance(
  modelOutput: tf.Tensor,
  xt: tf.Tensor,
  t: TimestepsInput,
  options: PMeanVarianceOptions,
): PMeanVarianceResult {
  const context = 'pMeanVariance';
  const settings = reverseSettings(options, context);
  assertBatched(modelOutput, 'modelOutput', context);
  assertBatched(xt, 'xt', context);
  assertModelOutput(modelOutput, xt, settings.varianceType, context);
  return tf.tidy(() => {
    const steps = timestepTensor(t, xt.shape[0], settings.coefficients.numTimesteps, context);
    return reverseMoments(settings, modelOutput, xt, steps);
  });
}
