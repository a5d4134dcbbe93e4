import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from '../../index.js';
import { testBackendNames } from '../../testing/index.js';
import { registerWasmTrainingKernels, unsortedSegmentSum } from './index.js';
import { onCpu, relativeError, sinTensor } from './test-helpers.js';

describe.each(testBackendNames())('UnsortedSegmentSum and gather gradients on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
    registerWasmTrainingKernels();
  });

  it('sums rows by segment id and drops out-of-range ids', async () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [5, 2]);
    const ids = tf.tensor1d([2, 0, 2, -1, 5], 'int32');
    const before = tf.memory().numTensors;
    const sums = tf.unsortedSegmentSum(x, ids, 3);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(sums.shape).toEqual([3, 2]);
    expect(Array.from(await sums.data())).toEqual([3, 4, 0, 0, 6, 8]);
    tf.dispose([x, ids, sums]);
  });

  it('sums int32 values exactly and accepts rank-2 ids (the composition itself)', async () => {
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], 'int32');
    const ids = tf.tensor2d([1, 1, 0, 1], [2, 2], 'int32');
    const sums = tf.tidy(() => unsortedSegmentSum(x, ids, 2));
    expect(sums.shape).toEqual([2, 2]);
    expect(sums.dtype).toBe('int32');
    expect(Array.from(await sums.data())).toEqual([5, 6, 11, 14]);
    tf.dispose([x, ids, sums]);
  });

  it('gives gather (an embedding lookup) the same gradient as tfjs cpu', async () => {
    const indices = [3, 0, 3, 7, 1, 3];
    const loss = (table: tf.Tensor, upstream: tf.Tensor, ids: tf.Tensor) =>
      tf.grad((weights: tf.Tensor) => tf.sum(tf.mul(tf.gather(weights, ids), upstream)))(table);
    const [expected] = await onCpu(() =>
      tf.tidy(() => loss(sinTensor([8, 5], 0.2), sinTensor([6, 5], 1.4), tf.tensor1d(indices, 'int32'))),
    );
    const table = sinTensor([8, 5], 0.2);
    const upstream = sinTensor([6, 5], 1.4);
    const ids = tf.tensor1d(indices, 'int32');
    const before = tf.memory().numTensors;
    const gradient = loss(table, upstream, ids);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(gradient.shape).toEqual([8, 5]);
    expect(relativeError(await gradient.data(), expected)).toBeLessThan(1e-6);
    tf.dispose([table, upstream, ids, gradient]);
  });
});
