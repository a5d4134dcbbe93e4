import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { initBackend, upsampleNearest } from '../../index.js';
import { testBackendNames } from '../../testing/index.js';
import { registerWasmTrainingKernels, tileByConcat } from './index.js';
import { onCpu, sinTensor } from './test-helpers.js';

describe.each(testBackendNames())('Tile by concatenation on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
    registerWasmTrainingKernels();
  });

  it.each([
    { shape: [2, 3], reps: [2, 3] },
    { shape: [4, 3, 1, 5], reps: [1, 1, 2, 1] },
    { shape: [2, 1, 3], reps: [3, 2, 1] },
    { shape: [3], reps: [1] },
    { shape: [2, 2], reps: [0, 2] },
  ])('tiles $shape by $reps exactly as tfjs cpu', async ({ shape, reps }) => {
    const [expected] = await onCpu(() => tf.tidy(() => tf.tile(sinTensor(shape, 0.5), reps)));
    const x = sinTensor(shape, 0.5);
    const before = tf.memory().numTensors;
    const viaOp = tf.tile(x, reps);
    const viaComposition = tf.tidy(() => tileByConcat(x, reps));
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(viaOp.shape).toEqual(shape.map((size, axis) => size * reps[axis]));
    expect(Array.from(await viaOp.data())).toEqual(Array.from(expected));
    expect(Array.from(await viaComposition.data())).toEqual(Array.from(expected));
    tf.dispose([x, viaOp, viaComposition]);
  });

  it('tiles int32 and keeps the dtype', async () => {
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
    const tiled = tf.tile(x, [1, 2]);
    expect(tiled.dtype).toBe('int32');
    expect(Array.from(await tiled.data())).toEqual([1, 2, 1, 2, 3, 4, 3, 4]);
    tf.dispose([x, tiled]);
  });

  it('keeps broadcastTo and upsampleNearest (and their gradients) exact', async () => {
    const compute = () =>
      tf.tidy(() => {
        const x = sinTensor([2, 3, 3, 4], 0.1) as tf.Tensor4D;
        const upstream = sinTensor([2, 6, 6, 4], 1.3);
        const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(upsampleNearest(input as tf.Tensor4D), upstream)))(x);
        return [upsampleNearest(x), grad, tf.broadcastTo(sinTensor([1, 3, 1], 0.7), [2, 3, 4])];
      });
    const expected = await onCpu(compute);
    const actual = compute();
    for (const [index, tensor] of actual.entries()) {
      expect(Array.from(await tensor.data())).toEqual(Array.from(expected[index]));
    }
    tf.dispose(actual);
  });
});
