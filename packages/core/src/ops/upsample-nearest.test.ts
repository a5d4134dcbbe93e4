import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../index.js';
import { testBackendNames } from '../testing/index.js';
import { upsampleNearest } from './upsample-nearest.js';

describe.each(testBackendNames())('upsampleNearest on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it('repeats each pixel factor x factor times', async () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const y = upsampleNearest(x);
    expect(y.shape).toEqual([1, 4, 4, 1]);
    expect(Array.from(await y.data())).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    tf.dispose([x, y]);
  });

  it('has the exact gradient: 2x2 block sums', async () => {
    const x = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const upstream = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(upsampleNearest(input as tf.Tensor4D), upstream)))(x);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(grad, tf.mul(tf.avgPool(upstream, 2, 2, 'valid'), 4)))));
    expect((await diff.data())[0]).toBeLessThan(1e-5);
    tf.dispose([grad, diff]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, upstream]);
  });
});
