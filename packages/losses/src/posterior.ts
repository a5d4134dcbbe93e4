/**
 * The forward process q(x_t | x_0) and its posterior q(x_{t-1} | x_t, x_0) (DDPM eq. 4, 6-7),
 * with coefficients derived in float64 from the scheduler's betas (see `coefficients.ts`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertSameShape, gatherPerItem, timestepTensor, type TimestepsInput } from '@diffusion-ts/schedulers';
import { coefficientsOf, type DiffusionCoefficients, type DiffusionSchedule } from './coefficients.js';
import { assertBatched } from './inputs.js';

/** A Gaussian over tensors of the sample's shape. */
export type GaussianMoments = {
  /** The mean, shape of the sample. */
  mean: tf.Tensor;
  /** The variance, broadcast to the sample's shape. */
  variance: tf.Tensor;
  /** The log variance, broadcast to the sample's shape. */
  logVariance: tf.Tensor;
};

/**
 * Checks `x0` (and `other`, which must have its shape), then runs `body` inside `tf.tidy` with the
 * float64 coefficients and the int32 timestep of every batch item.
 */
function withTimesteps<T extends tf.TensorContainer>(
  scheduler: DiffusionSchedule,
  x0: tf.Tensor,
  other: readonly [string, tf.Tensor] | null,
  t: TimestepsInput,
  context: string,
  body: (coefficients: DiffusionCoefficients, steps: tf.Tensor1D) => T,
): T {
  const coefficients = coefficientsOf(scheduler);
  assertBatched(x0, 'x0', context);
  if (other !== null) {
    const [name, tensor] = other;
    assertBatched(tensor, name, context);
    assertSameShape(tensor, name, x0, 'x0', context);
  }
  return tf.tidy(() => body(coefficients, timestepTensor(t, x0.shape[0], coefficients.numTimesteps, context)));
}

/**
 * x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε, with ᾱ in float64 from the betas (improved-diffusion's
 * `q_sample`; the scheduler's `addNoise` is the Diffusers float32 version).
 */
export function qSample(scheduler: DiffusionSchedule, x0: tf.Tensor, noise: tf.Tensor, t: TimestepsInput): tf.Tensor {
  return withTimesteps(scheduler, x0, ['noise', noise], t, 'qSample', (coefficients, steps) =>
    tf.add(
      tf.mul(gatherPerItem(coefficients.sqrtAlphasCumprod, steps, x0.rank), x0),
      tf.mul(gatherPerItem(coefficients.sqrtOneMinusAlphasCumprod, steps, x0.rank), noise),
    ),
  );
}

/** q(x_t | x_0): mean sqrt(ᾱ_t) x_0, variance 1 - ᾱ_t. */
export function qMeanVariance(scheduler: DiffusionSchedule, x0: tf.Tensor, t: TimestepsInput): GaussianMoments {
  return withTimesteps(scheduler, x0, null, t, 'qMeanVariance', (coefficients, steps) => {
    const column = (values: Float64Array) => tf.broadcastTo(gatherPerItem(values, steps, x0.rank), x0.shape);
    return {
      mean: tf.mul(gatherPerItem(coefficients.sqrtAlphasCumprod, steps, x0.rank), x0),
      variance: column(coefficients.oneMinusAlphasCumprod),
      logVariance: column(coefficients.logOneMinusAlphasCumprod),
    };
  });
}

/**
 * The posterior q(x_{t-1} | x_t, x_0): mean μ̃ = c1 x_0 + c2 x_t, variance β̃_t, and log variance
 * with t = 0 clipped to log β̃_1 (β̃_0 = 0), as improved-diffusion's `q_posterior_mean_variance`.
 */
export function qPosteriorMeanVariance(scheduler: DiffusionSchedule, x0: tf.Tensor, xt: tf.Tensor, t: TimestepsInput): GaussianMoments {
  return withTimesteps(scheduler, x0, ['xt', xt], t, 'qPosteriorMeanVariance', (coefficients, steps) =>
    posteriorMoments(coefficients, x0, xt, steps),
  );
}

/** The posterior moments for int32 timesteps `steps` (internal, unchecked). */
export function posteriorMoments(coefficients: DiffusionCoefficients, x0: tf.Tensor, xt: tf.Tensor, steps: tf.Tensor1D): GaussianMoments {
  return tf.tidy(() => {
    const column = (values: Float64Array) => gatherPerItem(values, steps, xt.rank);
    return {
      mean: tf.add(tf.mul(column(coefficients.posteriorMeanCoef1), x0), tf.mul(column(coefficients.posteriorMeanCoef2), xt)),
      variance: tf.broadcastTo(column(coefficients.posteriorVariance), xt.shape),
      logVariance: tf.broadcastTo(column(coefficients.posteriorLogVarianceClipped), xt.shape),
    };
  });
}
