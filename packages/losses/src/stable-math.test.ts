import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { expm1MinusX, log1p, logOneMinusExp } from './stable-math.js';
import { maxRelativeError } from './testing/fixtures.js';

const inputs = (values: number[]) => Float32Array.from(values);

describe.each(testBackendNames())('stable float32 helpers on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  const cases: [string, (x: tf.Tensor) => tf.Tensor, (x: number) => number, number[]][] = [
    ['log1p', log1p, Math.log1p, [-0.5, -0.1, -0.0999, -1e-3, -1e-7, 1e-12, 1e-7, 2.19e-7, 1e-3, 0.05, 0.0999, 0.1, 0.5, 1, 10]],
    [
      'logOneMinusExp',
      logOneMinusExp,
      (g) => (g > 30 ? -Math.exp(-g) : Math.log(-Math.expm1(-g))),
      [1e-8, 1e-5, 0.01, 0.0999, 0.1, 0.3, Math.LN2, 0.7, 2, 20, 80],
    ],
    ['expm1MinusX', expm1MinusX, (u) => Math.expm1(u) - u, [-5, -0.5, -0.4999, -0.1, -1e-3, -1e-6, 1e-6, 1e-3, 0.2, 0.4999, 0.5, 3]],
  ];

  it.each(cases)('%s is accurate to float32 precision across its range, with finite gradients', (_, op, reference, values) => {
    const x32 = inputs(values);
    const x = tf.tensor1d(x32);
    const before = tf.memory().numTensors;
    const y = op(x);
    const expected = Array.from(x32, reference);
    expect(maxRelativeError(y.dataSync(), expected)).toBeLessThan(1e-6);
    const gradient = tf.grad((input: tf.Tensor) => tf.sum(op(input)))(x);
    expect(Array.from(gradient.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([y, gradient]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
