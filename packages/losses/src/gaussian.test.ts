import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { approxStandardNormalCdf, discretizedGaussianLogLikelihood, normalKl } from './gaussian.js';
import { ErrorLog, loadLossesFixture, maxRelativeError, toTensor } from './testing/fixtures.js';
import { referenceLogLikelihood } from './testing/reference.js';

const { elementwise } = loadLossesFixture();
const TOLERANCE = 1e-5;

describe.each(testBackendNames())('gaussian helpers on %s', (backend) => {
  const log = new ErrorLog();
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => console.log(log.format(`[${backend}] losses.json`)));

  it.each(elementwise.normal_kl.cases.map((entry, i) => [i, entry] as const))('normal_kl case %i matches', (i, entry) => {
    const before = tf.memory().numTensors;
    const operand = (value: (typeof entry)['mean2']) => (typeof value === 'number' ? value : toTensor(value));
    const inputs = [toTensor(entry.mean1), toTensor(entry.logvar1), operand(entry.mean2), operand(entry.logvar2)] as const;
    const kl = normalKl(...inputs);
    const error = log.record(`normal_kl[${i}]`, maxRelativeError(kl.dataSync(), entry.kl.data, 1e-6));
    tf.dispose([kl, ...inputs.filter((v): v is tf.Tensor => v instanceof tf.Tensor)]);
    expect(tf.memory().numTensors).toBe(before);
    expect(error).toBeLessThanOrEqual(TOLERANCE);
  });

  it('approx_standard_normal_cdf matches (relative, including tails down to 1e-11)', () => {
    const before = tf.memory().numTensors;
    const { x, cdf } = elementwise.approx_standard_normal_cdf;
    const input = toTensor(x);
    const output = approxStandardNormalCdf(input);
    const values = output.dataSync();
    tf.dispose([input, output]);
    expect(tf.memory().numTensors).toBe(before);
    // The reference's 0.0 at x = -7.5 is float64 rounding of 1 + tanh; ours keeps the tail (~1e-20).
    const error = log.record('approx_standard_normal_cdf', maxRelativeError(values, cdf.data, 1e-12));
    expect(error).toBeLessThanOrEqual(TOLERANCE);
  });

  it('discretized_gaussian_log_likelihood matches, edges at -1 / +1 included', () => {
    const before = tf.memory().numTensors;
    const entry = elementwise.discretized_gaussian_log_likelihood;
    const [x, means, logScales] = [toTensor(entry.x), toTensor(entry.means), toTensor(entry.log_scales)];
    const output = discretizedGaussianLogLikelihood(x, { means, logScales });
    const values = output.dataSync();
    tf.dispose([x, means, logScales, output]);
    expect(tf.memory().numTensors).toBe(before);
    const expected = entry.log_probs.data;
    log.record('discretized_gaussian_log_likelihood', maxRelativeError(values, expected, 1e-12));
    // Two elements (σ = e^-9 and e^-6, a mean 0.003 from x) are ill-conditioned: rounding the
    // float64 inputs to float32 alone moves the float64 formula by up to 1.7e-4 relative. Each
    // element may differ by 1e-5 relative plus twice that input-rounding effect.
    const rounded = entry.x.data.map((x, i) =>
      referenceLogLikelihood(Math.fround(x), Math.fround(entry.means.data[i]), Math.fround(entry.log_scales.data[i])),
    );
    const inherent = rounded.map((value, i) => Math.abs(value - expected[i]));
    log.record('discretized_gaussian_log_likelihood (vs float64 on float32 inputs)', maxRelativeError(values, rounded, 1e-12));
    values.forEach((value, i) => {
      expect(Math.abs(value - expected[i])).toBeLessThanOrEqual(TOLERANCE * Math.abs(expected[i]) + 2 * inherent[i] + 1e-30);
    });
    const wellConditioned = [...values.keys()].filter((i) => inherent[i] <= 1e-6 * Math.abs(expected[i]));
    expect(wellConditioned.length).toBeGreaterThanOrEqual(14);
    const wellError = maxRelativeError(
      wellConditioned.map((i) => values[i]),
      wellConditioned.map((i) => expected[i]),
      1e-12,
    );
    log.record('discretized_gaussian_log_likelihood (well-conditioned elements)', wellError);
    expect(wellError).toBeLessThanOrEqual(TOLERANCE);
  });

  it('the decoder log-likelihood has finite gradients, also in clamped and edge buckets', () => {
    const entry = elementwise.discretized_gaussian_log_likelihood;
    const [x, means, logScales] = [toTensor(entry.x), toTensor(entry.means), toTensor(entry.log_scales)];
    const before = tf.memory().numTensors;
    const { grads, value } = tf.valueAndGrads((m: tf.Tensor, s: tf.Tensor) =>
      tf.sum(discretizedGaussianLogLikelihood(x, { means: m, logScales: s })),
    )([means, logScales]);
    const finite = grads.every((g) => Array.from(g.dataSync()).every(Number.isFinite));
    tf.dispose([...grads, value]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, means, logScales]);
    expect(finite).toBe(true);
  });

  it('rejects bad input with errors naming the argument', () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([[-1, 0.5]]);
    const means = tf.zeros([1, 2]);
    const scales = tf.zeros([1, 2]);
    const outside = tf.tensor2d([[-1, 1.5]]);
    const nanScales = tf.tensor2d([[0, Number.NaN]]);
    const infScales = tf.tensor2d([[0, Number.POSITIVE_INFINITY]]);
    const wrong = tf.zeros([1, 3]);
    expect(() => discretizedGaussianLogLikelihood(outside, { means, logScales: scales })).toThrow(/x must lie in \[-1, 1\]/);
    expect(() => discretizedGaussianLogLikelihood(x, { means, logScales: nanScales })).toThrow(/logScales contains NaN/);
    expect(() => discretizedGaussianLogLikelihood(x, { means, logScales: infScales })).toThrow(/logScales contains Infinity/);
    expect(() => discretizedGaussianLogLikelihood(x, { means: wrong, logScales: scales })).toThrow(/means shape \[1, 3\] does not match x/);
    expect(() => discretizedGaussianLogLikelihood(x, { means, logScales: wrong })).toThrow(/logScales shape/);
    expect(() => normalKl(x, wrong, 0, 0)).toThrow(/normalKl: shapes do not broadcast/);
    expect(() => normalKl(0, 0, 0, 0)).toThrow(/at least one argument/);
    expect(() => normalKl(x, Number.NaN, 0, 0)).toThrow(/logvar1 must be/);
    tf.dispose([x, means, scales, outside, nanScales, infScales, wrong]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
