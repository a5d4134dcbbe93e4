/**
 * The terms of the variational bound (Ho et al. 2020 eq. 5), in bits per dimension:
 * L_0 = -log p(x_0 | x_1), the discretized Gaussian decoder NLL, at t = 0, and
 * L_{t-1} = KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)) otherwise (improved-diffusion's
 * `_vb_terms_bpd`). Both are means over the non-batch dimensions, divided by ln 2.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertSameShape, gatherPerItem, timestepTensor, type TimestepsInput } from '@diffusion-ts/schedulers';
import type { DiffusionCoefficients } from './coefficients.js';
import { discretizedGaussianLogLikelihoodUnchecked, normalKlUnchecked } from './gaussian.js';
import { assertBatched, assertUnitRange, meanFlat } from './inputs.js';
import { assertModelOutput, reverseMoments, reverseSettings, type PMeanVarianceOptions } from './p-mean-variance.js';

/** Options of `vlbTerms` (`clipDenoised` defaults to true, as in improved-diffusion). */
export type VlbOptions = PMeanVarianceOptions;

/** The bound terms of a batch. */
export type VlbResult = {
  /** One term per batch item, in bits per dimension: decoder NLL where t = 0, KL elsewhere. */
  terms: tf.Tensor1D;
  /** The model's x_0 prediction (after clipping when `clipDenoised`). */
  predXstart: tf.Tensor;
};

/**
 * The bound term for p with `mean` = μ̃(x_t, x̂_0) and `logVariance` (internal, unchecked). The
 * KL's mean difference is taken as c1 (x_0 - x̂_0): the c2 x_t parts of the two means cancel
 * exactly, and subtracting them in float32 would lose the small KL of late timesteps.
 * `sharedTimestep`: the one timestep of every item, when known, to compute only its term.
 */
export function boundTerms(
  coefficients: DiffusionCoefficients,
  x0: tf.Tensor,
  xt: tf.Tensor,
  steps: tf.Tensor1D,
  model: { mean: tf.Tensor; logVariance: tf.Tensor; predXstart: tf.Tensor },
  sharedTimestep?: number,
): tf.Tensor1D {
  return tf.tidy(() => {
    const { mean, logVariance, predXstart } = model;
    const kl = () => {
      const trueLogVariance = gatherPerItem(coefficients.posteriorLogVarianceClipped, steps, x0.rank);
      const meanDifference = tf.mul(gatherPerItem(coefficients.posteriorMeanCoef1, steps, x0.rank), tf.sub(x0, predXstart));
      return meanFlat(normalKlUnchecked(meanDifference, trueLogVariance, 0, logVariance));
    };
    const decoderNll = () => tf.neg(meanFlat(discretizedGaussianLogLikelihoodUnchecked(x0, mean, tf.mul(logVariance, 0.5))));
    // With one timestep for the whole batch (bitsPerDim), only the needed term is computed.
    if (sharedTimestep !== undefined) return tf.div(sharedTimestep === 0 ? decoderNll() : kl(), Math.LN2) as tf.Tensor1D;
    return tf.div(tf.where(tf.equal(steps, 0), decoderNll(), kl()), Math.LN2) as tf.Tensor1D;
  });
}

/**
 * The variational-bound term of each batch item at its timestep, in bits per dimension, for a
 * model output at x_t (NHWC; 2·C channels for learned_range). `x0` is the data in [-1, 1].
 */
export function vlbTerms(modelOutput: tf.Tensor, x0: tf.Tensor, xt: tf.Tensor, t: TimestepsInput, options: VlbOptions): VlbResult {
  const context = 'vlbTerms';
  const settings = reverseSettings(options, context);
  assertBatched(modelOutput, 'modelOutput', context);
  assertBatched(x0, 'x0', context);
  assertBatched(xt, 'xt', context);
  assertSameShape(xt, 'xt', x0, 'x0', context);
  assertModelOutput(modelOutput, xt, settings.varianceType, context);
  assertUnitRange(x0, 'x0', context);
  return tf.tidy(() => {
    const steps = timestepTensor(t, x0.shape[0], settings.coefficients.numTimesteps, context);
    const reverse = reverseMoments(settings, modelOutput, xt, steps);
    const terms = boundTerms(settings.coefficients, x0, xt, steps, reverse);
    return { terms, predXstart: reverse.predXstart };
  });
}
