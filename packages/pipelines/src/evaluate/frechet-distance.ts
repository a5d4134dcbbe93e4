import { symmetricEigen } from './symmetric-eigen.js';

/** Mean and covariance (unbiased, float64) of `count` feature rows of width `dimension`. */
export interface FeatureStatistics {
  mean: Float64Array;
  covariance: Float64Array;
  dimension: number;
  count: number;
}

/** Computes the mean and unbiased covariance of row-major features `[count, dimension]`. */
export function featureStatistics(features: ArrayLike<number>, dimension: number): FeatureStatistics {
  const count = features.length / dimension;
  if (!Number.isInteger(count) || count < 2) {
    throw new Error(`featureStatistics: need at least 2 rows of ${dimension} features, got ${features.length} values`);
  }
  const mean = new Float64Array(dimension);
  for (let r = 0; r < count; r++) for (let d = 0; d < dimension; d++) mean[d] += features[r * dimension + d];
  for (let d = 0; d < dimension; d++) mean[d] /= count;
  const covariance = new Float64Array(dimension * dimension);
  const centred = new Float64Array(dimension);
  for (let r = 0; r < count; r++) {
    for (let d = 0; d < dimension; d++) {
      const value = features[r * dimension + d];
      if (!Number.isFinite(value)) throw new Error(`featureStatistics: feature [${r}, ${d}] is ${value}`);
      centred[d] = value - mean[d];
    }
    for (let i = 0; i < dimension; i++) {
      const ci = centred[i];
      for (let j = i; j < dimension; j++) covariance[i * dimension + j] += ci * centred[j];
    }
  }
  for (let i = 0; i < dimension; i++) {
    for (let j = i; j < dimension; j++) {
      const value = covariance[i * dimension + j] / (count - 1);
      covariance[i * dimension + j] = value;
      covariance[j * dimension + i] = value;
    }
  }
  return { mean, covariance, dimension, count };
}

function multiply(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += aik * b[k * n + j];
    }
  }
  return out;
}

/** Square root of a symmetric positive semi-definite matrix (negative eigenvalues clamped to 0). */
function symmetricSqrt(matrix: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, n);
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const root = Math.sqrt(Math.max(values[k], 0));
    if (root === 0) continue;
    for (let i = 0; i < n; i++) {
      const vik = vectors[i * n + k] * root;
      for (let j = 0; j < n; j++) out[i * n + j] += vik * vectors[j * n + k];
    }
  }
  return out;
}

/**
 * The Frechet distance between two Gaussians fitted to features (as in FID):
 * |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)), where the trace of the square root is computed
 * as the sum of square roots of the eigenvalues of S1^(1/2) S2 S1^(1/2) (symmetric, so stable).
 */
export function frechetDistance(first: FeatureStatistics, second: FeatureStatistics): number {
  const n = first.dimension;
  if (second.dimension !== n) {
    throw new Error(`frechetDistance: feature dimensions differ (${n} vs ${second.dimension})`);
  }
  let meanTerm = 0;
  for (let d = 0; d < n; d++) meanTerm += (first.mean[d] - second.mean[d]) ** 2;
  let traceTerm = 0;
  for (let d = 0; d < n; d++) traceTerm += first.covariance[d * n + d] + second.covariance[d * n + d];
  const root = symmetricSqrt(first.covariance, n);
  const product = multiply(multiply(root, second.covariance, n), root, n);
  // Symmetrise against rounding before the eigen-decomposition.
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const average = (product[i * n + j] + product[j * n + i]) / 2;
      product[i * n + j] = average;
      product[j * n + i] = average;
    }
  }
  const { values } = symmetricEigen(product, n);
  let crossTrace = 0;
  for (const value of values) crossTrace += Math.sqrt(Math.max(value, 0));
  return Math.max(meanTerm + traceTerm - 2 * crossTrace, 0);
}
