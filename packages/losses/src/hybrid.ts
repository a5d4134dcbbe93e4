/**
 * L_hybrid = L_simple + λ L_vlb (Improved DDPM, Nichol & Dhariwal 2021, §3.1), for models that
 * learn their variance: the bound term sees the mean through a stop-gradient, so L_simple alone
 * trains the mean and L_vlb trains the variance. L_vlb is estimated from the sampled timestep as
 * T · L_t, so λ = 0.001 gives improved-diffusion's `vb * num_timesteps / 1000` (RESCALED_MSE).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertSameShape, timestepTensor, type VarianceType } from '@diffusion-ts/schedulers';
import { coefficientsOf } from './coefficients.js';
import { assertBatched, assertUnitRange, readVarianceType } from './inputs.js';
import { assertModelOutput, predictXstart, reverseLogVariance, splitLearned, type ReverseSettings } from './p-mean-variance.js';
import { posteriorMoments, qSample } from './posterior.js';
import { reduceLoss, simpleSettings, simpleTerms, type ReducedLoss, type SimpleLossOptions } from './simple.js';
import { stopGradient } from './stop-gradient.js';
import { boundTerms } from './vlb.js';

/** Options of `lHybrid`. */
export interface HybridLossOptions extends SimpleLossOptions {
  /** The model input x_t; defaults to `qSample(scheduler, x0, noise, timesteps)`. */
  xt?: tf.Tensor;
  /** Defaults to `scheduler.config.varianceType`, else `fixed_small`; `learned_range` is the usual choice. */
  varianceType?: VarianceType;
  /** Weight λ of L_vlb (default 0.001). */
  lambda?: number;
}

/**
 * L_simple on the prediction channels plus λ · T · (the bound term at each item's timestep, in
 * bits per dimension, with the mean frozen), per item, then (by default) the batch mean. For
 * `learned_range`, `modelOutput` has 2·C channels on the last axis: the prediction, then the
 * variance values in [-1, 1]. With a fixed variance the bound term is a constant (no gradient).
 */
export function lHybrid<O extends HybridLossOptions>(modelOutput: tf.Tensor, options: O): ReducedLoss<O> {
  const context = 'lHybrid';
  const simple = simpleSettings(options, context);
  const { scheduler, x0, noise } = options;
  const coefficients = coefficientsOf(scheduler);
  const varianceType = readVarianceType(options.varianceType ?? scheduler.config.varianceType, context);
  const lambda = options.lambda ?? 0.001;
  if (!(Number.isFinite(lambda) && lambda >= 0))
    throw new RangeError(`${context}: lambda must be a non-negative number, got ${String(lambda)}`);
  assertBatched(modelOutput, 'modelOutput', context);
  if (options.xt !== undefined) {
    assertBatched(options.xt, 'xt', context);
    assertSameShape(options.xt, 'xt', x0, 'x0', context);
  }
  assertModelOutput(modelOutput, x0, varianceType, context, 'x0');
  assertUnitRange(x0, 'x0', context);
  const settings: ReverseSettings = { coefficients, varianceType, predictionType: simple.predictionType, clipDenoised: false };
  return tf.tidy(() => {
    const steps = timestepTensor(options.timesteps, x0.shape[0], coefficients.numTimesteps, context);
    const xt = options.xt ?? qSample(scheduler, x0, noise, options.timesteps);
    const [prediction, varianceValues] = varianceType === 'learned_range' ? splitLearned(modelOutput) : [modelOutput, null];
    const simpleLoss = simpleTerms(simple, prediction, options, steps);
    const frozenXstart = predictXstart(settings, stopGradient(prediction), xt, steps);
    const { mean } = posteriorMoments(coefficients, frozenXstart, xt, steps);
    const logVariance = reverseLogVariance(settings, xt, steps, varianceValues);
    const vb = boundTerms(coefficients, x0, xt, steps, { mean, logVariance, predXstart: frozenXstart });
    return reduceLoss(tf.add(simpleLoss, tf.mul(vb, lambda * coefficients.numTimesteps)) as tf.Tensor1D, simple.reduction);
  }) as ReducedLoss<O>;
}
