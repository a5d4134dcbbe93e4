/**
 * The whole variational bound in bits per dimension (improved-diffusion's `calc_bpd_loop`):
 * L_T (the prior term) + Σ_{t=1}^{T-1} L_{t-1} + L_0, each term estimated at one x_t ~ q(x_t | x_0).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertSameShape, gatherPerItem, type PredictionType, type VarianceType } from '@diffusion-ts/schedulers';
import { coefficientsOf, type DiffusionSchedule } from './coefficients.js';
import { normalKlUnchecked } from './gaussian.js';
import { assertBatched, assertUnitRange, meanFlat } from './inputs.js';
import { assertModelOutput, reverseMoments, reverseSettings } from './p-mean-variance.js';
import { boundTerms } from './vlb.js';

/** A denoising model on NHWC tensors: `t` holds one integer timestep per batch item. */
export type DenoisingModel = (xt: tf.Tensor, t: tf.Tensor1D) => tf.Tensor;

/** A seeded source of standard normal float32 numbers (core's `Generator` fits). */
export interface NoiseSource {
  /** `count` standard normal samples. */
  normal(count: number): Float32Array;
}

/** Options of `bitsPerDim`. */
export interface BitsPerDimOptions {
  /** Clip the x_0 prediction to [-1, 1] (default true, as in improved-diffusion). */
  clipDenoised?: boolean;
  /** Noise of x0's shape, used at every timestep (reproducible tests). */
  noise?: tf.Tensor;
  /** Seeded noise source, drawn once per timestep (x0.size numbers, t = T-1 first). */
  generator?: NoiseSource;
  /** Defaults to `scheduler.config.varianceType`, else `fixed_small`. */
  varianceType?: VarianceType;
  /** Defaults to `scheduler.config.predictionType`, else `epsilon`. */
  predictionType?: PredictionType;
  /** Called after each timestep with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** The bound of each batch item; columns follow improved-diffusion: column j is t = T-1-j. */
export type BitsPerDimResult = {
  /** Σ vb + prior, per item [N]. */
  totalBpd: tf.Tensor1D;
  /** The prior term L_T per item [N]. */
  priorBpd: tf.Tensor1D;
  /** Bound terms [N, T]. */
  vb: tf.Tensor2D;
  /** Mean squared error of the x_0 prediction [N, T]. */
  xstartMse: tf.Tensor2D;
  /** Mean squared error of the ε implied by the x_0 prediction [N, T]. */
  mse: tf.Tensor2D;
};

/**
 * The prior term L_T = KL(q(x_T | x_0) || N(0, I)) per batch item, in bits per dimension
 * (improved-diffusion's `_prior_bpd`). It does not depend on the model.
 */
export function priorBpd(scheduler: DiffusionSchedule, x0: tf.Tensor): tf.Tensor1D {
  const coefficients = coefficientsOf(scheduler);
  assertBatched(x0, 'x0', 'priorBpd');
  return priorTerm(coefficients, x0);
}

function priorTerm(coefficients: ReturnType<typeof coefficientsOf>, x0: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const last = coefficients.numTimesteps - 1;
    const mean = tf.mul(x0, Math.fround(coefficients.sqrtAlphasCumprod[last]));
    const logVariance = tf.fill(x0.shape, Math.fround(coefficients.logOneMinusAlphasCumprod[last]));
    return tf.div(meanFlat(normalKlUnchecked(mean, logVariance, 0, 0)), Math.LN2) as tf.Tensor1D;
  });
}

/**
 * Runs `model` at every training timestep (T-1 down to 0) and returns the variational bound in
 * bits per dimension with its per-timestep terms. `x0` is NHWC data in [-1, 1]. Each timestep
 * draws x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε with ε = `noise` if given, else from `generator`.
 * All returned tensors belong to the caller.
 */
export function bitsPerDim(
  model: DenoisingModel,
  scheduler: DiffusionSchedule,
  x0: tf.Tensor,
  options: BitsPerDimOptions = {},
): BitsPerDimResult {
  const context = 'bitsPerDim';
  if (typeof model !== 'function') throw new TypeError(`${context}: model must be a function (xt, t) => tf.Tensor`);
  const settings = reverseSettings({ scheduler, ...options, clipDenoised: options.clipDenoised ?? true }, context);
  assertBatched(x0, 'x0', context);
  assertUnitRange(x0, 'x0', context);
  const { noise, generator, onProgress } = options;
  if (noise !== undefined) {
    assertBatched(noise, 'noise', context);
    assertSameShape(noise, 'noise', x0, 'x0', context);
  } else if (generator === undefined || typeof generator.normal !== 'function') {
    throw new TypeError(`${context}: give options.noise (a tensor of x0's shape) or options.generator (a seeded noise source)`);
  }
  const { coefficients } = settings;
  const total = coefficients.numTimesteps;
  const batch = x0.shape[0];
  const columns: tf.Tensor[] = [];
  try {
    for (let t = total - 1; t >= 0; t -= 1) {
      columns.push(
        tf.tidy(() => {
          const steps = tf.fill([batch], t, 'int32') as tf.Tensor1D;
          const epsilon = noise ?? tf.tensor(generator!.normal(x0.size), x0.shape, 'float32');
          const column = (values: Float64Array) => gatherPerItem(values, steps, x0.rank);
          const xt = tf.add(
            tf.mul(column(coefficients.sqrtAlphasCumprod), x0),
            tf.mul(column(coefficients.sqrtOneMinusAlphasCumprod), epsilon),
          );
          const output = model(xt, steps);
          if (!(output instanceof tf.Tensor)) throw new TypeError(`${context}: model returned ${typeof output}, not a tf.Tensor`);
          assertModelOutput(output, xt, settings.varianceType, `${context} (model output at t = ${t})`);
          const reverse = reverseMoments(settings, output, xt, steps);
          const vb = boundTerms(coefficients, x0, xt, steps, reverse, t);
          const xstartMse = meanFlat(tf.squaredDifference(reverse.predXstart, x0));
          const impliedEpsilon = tf.div(
            tf.sub(tf.mul(column(coefficients.sqrtRecipAlphasCumprod), xt), reverse.predXstart),
            column(coefficients.sqrtRecipm1AlphasCumprod),
          );
          const mse = meanFlat(tf.squaredDifference(impliedEpsilon, epsilon));
          return tf.stack([vb, xstartMse, mse]);
        }),
      );
      onProgress?.(total - t, total);
    }
    return tf.tidy(() => {
      const [vb, xstartMse, mse] = tf.unstack(tf.stack(columns, 2)) as tf.Tensor2D[];
      const prior = priorTerm(coefficients, x0);
      return { totalBpd: tf.add(tf.sum(vb, 1), prior) as tf.Tensor1D, priorBpd: prior, vb, xstartMse, mse };
    });
  } finally {
    tf.dispose(columns);
  }
}
