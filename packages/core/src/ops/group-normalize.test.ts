import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../index.js';
import { testBackendNames } from '../testing/index.js';
import { groupNormalize } from './group-normalize.js';

/** The textbook composition (tf.moments over a 5-D view), with tfjs' taped gradient. */
function reference(x: tf.Tensor4D, groups: number, weight: tf.Tensor1D, bias: tf.Tensor1D, epsilon = 1e-5): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const grouped = tf.reshape(x, [n, h, w, groups, c / groups]);
  const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
  const normalized = tf.reshape(tf.div(tf.sub(grouped, mean), tf.sqrt(tf.add(variance, epsilon))), [n, h, w, c]);
  return tf.add(tf.mul(normalized, weight), bias);
}

function input(shape: number[], phase: number, offset = 0): tf.Tensor4D {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor4d(
    Float32Array.from({ length: size }, (_, i) => offset + 2 * Math.sin(0.37 * i + phase)),
    shape as [number, number, number, number],
  );
}

function maxRelativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(actual, expected)), tf.add(tf.max(tf.abs(expected)), 1e-12))).dataSync()[0]);
}

describe.each(testBackendNames())('groupNormalize on %s', (backend) => {
  beforeAll(() => initBackend(backend));

  it.each([
    { shape: [2, 4, 4, 8], groups: 4 },
    { shape: [3, 5, 3, 6], groups: 3 },
    { shape: [1, 8, 8, 32], groups: 32 },
    { shape: [2, 2, 2, 4], groups: 1 },
  ])('matches the composition and its gradients for $shape in $groups groups', ({ shape, groups }) => {
    const x = input(shape, 0.3, 0.5);
    const upstream = input(shape, 1.7);
    const channels = shape[3];
    const weight = tf.tensor1d(Array.from({ length: channels }, (_, i) => 1 + 0.3 * Math.cos(i)));
    const bias = tf.tensor1d(Array.from({ length: channels }, (_, i) => 0.2 * Math.sin(2 * i)));
    const loss = (f: (a: tf.Tensor4D, w: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor) => (a: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(f(a as tf.Tensor4D, w as tf.Tensor1D, b as tf.Tensor1D), upstream));
    const ours = (a: tf.Tensor4D, w: tf.Tensor1D, b: tf.Tensor1D) => groupNormalize(a, groups, { weight: w, bias: b });
    const theirs = (a: tf.Tensor4D, w: tf.Tensor1D, b: tf.Tensor1D) => reference(a, groups, w, b);
    const results = tf.tidy(() => [ours(x, weight, bias), ...tf.grads(loss(ours))([x, weight, bias])]);
    const expected = tf.tidy(() => [theirs(x, weight, bias), ...tf.grads(loss(theirs))([x, weight, bias])]);
    results.forEach((result, i) => expect(maxRelativeError(result, expected[i]), `output ${i}`).toBeLessThan(1e-5));
    const plain = groupNormalize(x, groups);
    const plainExpected = tf.tidy(() => reference(x, groups, tf.ones([channels]) as tf.Tensor1D, tf.zeros([channels]) as tf.Tensor1D));
    expect(maxRelativeError(plain, plainExpected)).toBeLessThan(1e-5);
    tf.dispose([x, upstream, weight, bias, plain, plainExpected, ...results, ...expected]);
  });

  it('leaves no tensors behind, forward or backward', () => {
    const x = tf.variable(input([2, 4, 4, 8], 0.1));
    const before = tf.memory().numTensors;
    groupNormalize(x as tf.Tensor as tf.Tensor4D, 2).dispose();
    const { value, grads } = tf.variableGrads(() => tf.sum(groupNormalize(x as tf.Tensor as tf.Tensor4D, 2)) as tf.Scalar, [x]);
    tf.dispose([value, grads[x.name]]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('names bad input', () => {
    const x = tf.zeros([1, 2, 2, 6]) as tf.Tensor4D;
    expect(() => groupNormalize(x, 4)).toThrow(/6 channels cannot be split into 4 groups/);
    expect(() => groupNormalize(tf.zeros([2, 6]) as unknown as tf.Tensor4D, 2)).toThrow(/rank 4/);
    expect(() => groupNormalize(x, 2, { epsilon: Number.NaN })).toThrow(/epsilon/);
    const weight = tf.ones([4]) as tf.Tensor1D;
    expect(() => groupNormalize(x, 2, { weight })).toThrow(/weight must have shape \[6\], got \[4\]/);
    weight.dispose();
    x.dispose();
  });
});
