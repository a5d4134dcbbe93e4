/**
 * Gaussian helpers of the variational bound (Ho et al. 2020, §3.3; improved-diffusion's
 * `losses.py`): the KL between two diagonal Gaussians, the tanh approximation of the standard
 * normal CDF, and the discretized Gaussian decoder over 8-bit pixel buckets.
 *
 * Everything is computed in a numerically safe form that is mathematically identical to
 * improved-diffusion: the KL's variance part by series where the variances are close; 0.5 (1 + tanh u) is written as sigmoid(2u), so CDF tails keep their
 * relative precision in float32, and log(Φ(a) - Φ(b)) as
 * log σ(2u_a) + log σ(-2u_b) + log(1 - exp(2u_b - 2u_a)), which never subtracts two numbers near 1.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertFinite, assertSameShape, assertTensor } from '@diffusion-ts/schedulers';
import { assertUnitRange } from './inputs.js';
import { expm1MinusX, log1p, logOneMinusExp } from './stable-math.js';

/** sqrt(2 / π), the tanh approximation's scale. */
const CDF_SCALE = Math.sqrt(2 / Math.PI);
/** The cubic coefficient of the tanh approximation. */
const CDF_CUBIC = 0.044715;
/** Half a pixel bucket on the [-1, 1] scale: 1 / 255. */
const HALF_BUCKET = 1 / 255;
/** improved-diffusion clamps probabilities at 1e-12 before the log. */
const LOG_FLOOR = Math.log(1e-12);

type TensorOrNumber = tf.Tensor | number;

/**
 * KL(N(mean1, exp(logvar1)) || N(mean2, exp(logvar2))) per element, in nats:
 * 0.5 (-1 + logvar2 - logvar1 + exp(logvar1 - logvar2) + (mean1 - mean2)² exp(-logvar2)).
 * Any argument may be a number (broadcast), e.g. `normalKl(mean, logVar, 0, 0)` for the prior.
 */
export function normalKl(mean1: TensorOrNumber, logvar1: TensorOrNumber, mean2: TensorOrNumber, logvar2: TensorOrNumber): tf.Tensor {
  const inputs = { mean1, logvar1, mean2, logvar2 };
  const tensors = Object.entries(inputs).filter((entry): entry is [string, tf.Tensor] => entry[1] instanceof tf.Tensor);
  if (tensors.length === 0) throw new TypeError('normalKl: at least one argument must be a tf.Tensor');
  for (const [name, value] of Object.entries(inputs)) {
    if (!(value instanceof tf.Tensor) && !(typeof value === 'number' && Number.isFinite(value))) {
      throw new TypeError(`normalKl: ${name} must be a tf.Tensor or a finite number, got ${String(value)}`);
    }
    if (value instanceof tf.Tensor) assertTensor(value, name, 'normalKl');
  }
  try {
    tf.broadcast_util.assertAndGetBroadcastShape(
      tensors.map(([, t]) => t.shape).reduce((a, b) => tf.broadcast_util.assertAndGetBroadcastShape(a, b)),
      tensors[0][1].shape,
    );
  } catch {
    throw new RangeError(`normalKl: shapes do not broadcast: ${tensors.map(([n, t]) => `${n} [${t.shape.join(', ')}]`).join(', ')}`);
  }
  return normalKlUnchecked(mean1, logvar1, mean2, logvar2);
}

/** `normalKl` without input checks (internal). */
export function normalKlUnchecked(
  mean1: TensorOrNumber,
  logvar1: TensorOrNumber,
  mean2: TensorOrNumber,
  logvar2: TensorOrNumber,
): tf.Tensor {
  return tf.tidy(() => {
    // -1 + (logvar2 - logvar1) + exp(logvar1 - logvar2) = e^u - 1 - u with u = logvar1 - logvar2,
    // by series where the variances are close (it cancels there in float32).
    const varianceTerm = expm1MinusX(tf.sub(logvar1, logvar2));
    const meanTerm = tf.mul(tf.squaredDifference(mean1, mean2), tf.exp(tf.neg(logvar2)));
    return tf.mul(tf.add(varianceTerm, meanTerm), 0.5);
  });
}

/** 2u with u = sqrt(2/π)(x + 0.044715 x³): the sigmoid argument of the approximate CDF. */
function cdfLogit(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.add(x, tf.mul(tf.mul(tf.square(x), x), CDF_CUBIC)), 2 * CDF_SCALE);
}

/** log σ(z) = min(z, 0) - log(1 + exp(-|z|)), stable for any z. */
function logSigmoid(z: tf.Tensor): tf.Tensor {
  return tf.sub(tf.minimum(z, 0), log1p(tf.exp(tf.neg(tf.abs(z)))));
}

/**
 * A fast approximation of the standard normal CDF: 0.5 (1 + tanh(sqrt(2/π)(x + 0.044715 x³)))
 * (improved-diffusion's `approx_standard_normal_cdf`), evaluated as a sigmoid so that far tails
 * keep their relative precision.
 */
export function approxStandardNormalCdf(x: tf.Tensor): tf.Tensor {
  assertTensor(x, 'x', 'approxStandardNormalCdf');
  return tf.tidy(() => tf.sigmoid(cdfLogit(x)));
}

/** Parameters of the discretized Gaussian decoder. */
export interface DecoderParameters {
  /** Gaussian means, shape of `x`. */
  means: tf.Tensor;
  /** Log standard deviations (0.5 · log variance), broadcastable to `x`. */
  logScales: tf.Tensor;
}

/**
 * log-likelihood (nats, per element) of data `x` in [-1, 1] (8-bit pixels scaled as p / 127.5 - 1)
 * under a Gaussian discretized to 256 buckets of width 2/255: log(Φ((x + 1/255 - μ)/σ) - Φ((x - 1/255 - μ)/σ)),
 * with the edge buckets open (x < -0.999: log Φ((x + 1/255 - μ)/σ); x > 0.999: log(1 - Φ((x - 1/255 - μ)/σ))),
 * and probabilities clamped at 1e-12 before the log, as improved-diffusion does. Φ is
 * `approxStandardNormalCdf`.
 */
export function discretizedGaussianLogLikelihood(x: tf.Tensor, parameters: DecoderParameters): tf.Tensor {
  const context = 'discretizedGaussianLogLikelihood';
  assertTensor(x, 'x', context);
  if (typeof parameters !== 'object' || parameters === null) throw new TypeError(`${context}: expected { means, logScales }`);
  const { means, logScales } = parameters;
  assertTensor(means, 'means', context);
  assertTensor(logScales, 'logScales', context);
  assertSameShape(means, 'means', x, 'x', context);
  try {
    const shape = tf.broadcast_util.assertAndGetBroadcastShape(logScales.shape, x.shape);
    if (shape.length !== x.rank || shape.some((size: number, i: number) => size !== x.shape[i])) throw new Error();
  } catch {
    throw new RangeError(
      `${context}: logScales shape [${logScales.shape.join(', ')}] does not broadcast to x shape [${x.shape.join(', ')}]`,
    );
  }
  assertUnitRange(x, 'x', context);
  assertFinite({ means, logScales }, context);
  return discretizedGaussianLogLikelihoodUnchecked(x, means, logScales);
}

/** `discretizedGaussianLogLikelihood` without input checks (internal). */
export function discretizedGaussianLogLikelihoodUnchecked(x: tf.Tensor, means: tf.Tensor, logScales: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const centered = tf.sub(x, means);
    const inverseScale = tf.exp(tf.neg(logScales));
    const upper = tf.mul(inverseScale, tf.add(centered, HALF_BUCKET));
    const lower = tf.mul(inverseScale, tf.sub(centered, HALF_BUCKET));
    const logitUpper = cdfLogit(upper);
    const logitLower = cdfLogit(lower);
    // log Φ(upper) and log(1 - Φ(lower)) = log σ(-logitLower).
    const logCdfUpper = logSigmoid(logitUpper);
    const logOneMinusCdfLower = logSigmoid(tf.neg(logitLower));
    // logitUpper - logitLower, factored so a narrow bucket does not cancel:
    // 2·sqrt(2/π)·(a - b)·(1 + 0.044715 (a² + ab + b²)) with a - b = 2/255 · inverseScale.
    const quadratic = tf.add(tf.add(tf.square(upper), tf.mul(upper, lower)), tf.square(lower));
    const gap = tf.mul(tf.mul(inverseScale, 2 * CDF_SCALE * 2 * HALF_BUCKET), tf.add(tf.mul(quadratic, CDF_CUBIC), 1));
    // log(Φ(upper) - Φ(lower)) = log σ(a') + log σ(-b') + log(1 - exp(-(a' - b'))).
    const logDelta = tf.add(tf.add(logCdfUpper, logOneMinusCdfLower), logOneMinusExp(gap));
    // x < -0.999: the open bucket (-inf, x + 1/255]; x > 0.999: [x - 1/255, inf). Written with
    // greaterEqual, the one comparison tfjs can backpropagate through.
    const logProbs = tf.where(
      tf.greaterEqual(x, -0.999),
      tf.where(tf.greaterEqual(tf.neg(x), -0.999), logDelta, logOneMinusCdfLower),
      logCdfUpper,
    );
    return tf.maximum(logProbs, LOG_FLOOR);
  });
}
