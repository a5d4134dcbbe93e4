import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { registerNativeWasmKernels, unregisterNativeWasmKernels } from './kernel-registry.js';
import { expectMatchesCpu, loadForTests } from './test-helpers.js';

const loading = await loadForTests('layout kernel');
if (loading.available) registerNativeWasmKernels();

describe.skipIf(!loading.available)('native layout kernels', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });
  afterAll(() => {
    unregisterNativeWasmKernels();
  });

  it.each([
    {
      shapes: [
        [2, 3, 4, 5],
        [2, 3, 4, 7],
      ],
      axis: 3,
    },
    {
      shapes: [
        [2, 3, 4, 5],
        [2, 1, 4, 5],
        [2, 2, 4, 5],
      ],
      axis: 1,
    },
    {
      shapes: [
        [3, 5],
        [4, 5],
      ],
      axis: 0,
    },
    {
      shapes: [
        [2, 0, 3],
        [2, 4, 3],
        [2, 1, 3],
      ],
      axis: 1,
    },
    {
      shapes: [
        [1, 9],
        [1, 1],
      ],
      axis: -1,
    },
  ])('Concat $shapes along $axis matches cpu', async ({ shapes, axis }) => {
    await expectMatchesCpu(shapes, (...inputs) => tf.concat(inputs, axis), ['Concat']);
  });

  it('Concat of int32 tensors copies their bits', async () => {
    await tf.setBackend('wasm');
    const joined = tf.concat([tf.tensor2d([[1, -2]], [1, 2], 'int32'), tf.tensor2d([[2147483647]], [1, 1], 'int32')], 1);
    expect(joined.dtype).toBe('int32');
    expect(Array.from(await joined.data())).toEqual([1, -2, 2147483647]);
    joined.dispose();
  });

  it.each([
    { shape: [4, 5, 6, 7], begin: [1, 0, 2, 0], size: [2, 5, 3, 7] },
    { shape: [4, 5, 6, 7], begin: [0, 0, 0, 3], size: [4, 5, 6, 2] },
    { shape: [4, 5, 6, 7], begin: [0, 0, 0, 0], size: [4, 5, 6, 7] },
    { shape: [9], begin: [2], size: [5] },
    { shape: [3, 4], begin: [1, 1], size: [0, 2] },
  ])('Slice of $shape from $begin, size $size matches cpu', async ({ shape, begin, size }) => {
    await expectMatchesCpu([shape], (x) => tf.slice(x, begin, size), size.includes(0) ? [] : ['Slice']);
  });

  it.each([
    { shape: [2, 4, 4, 12], splits: [5, 7], axis: 3 },
    { shape: [6, 3], splits: 3, axis: 0 },
    { shape: [2, 5, 3], splits: [1, -1, 2], axis: 1 },
  ])('SplitV of $shape into $splits along $axis matches cpu', async ({ shape, splits, axis }) => {
    await expectMatchesCpu([shape], (x) => tf.split(x, splits, axis), ['SplitV']);
  });

  it.each([
    { shape: [2, 3, 1, 4, 1, 5], reps: [1, 1, 2, 1, 2, 1] },
    { shape: [3, 4], reps: [2, 3] },
    { shape: [5], reps: [4] },
    { shape: [2, 1, 3], reps: [1, 0, 2] },
  ])('Tile of $shape by $reps matches cpu', async ({ shape, reps }) => {
    await expectMatchesCpu([shape], (x) => tf.tile(x, reps), reps.includes(0) ? [] : ['Tile']);
  });

  it('the gradients of concat (SplitV) and of a slice match cpu', async () => {
    await expectMatchesCpu(
      [
        [2, 4, 4, 6],
        [2, 4, 4, 10],
      ],
      (a, b) => {
        const gradients = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(tf.square(tf.slice(tf.concat([x, y], 3), [0, 1, 0, 2], [2, 3, 4, 12]))),
        );
        return gradients([a, b]);
      },
      ['Concat', 'Slice'],
    );
  });

  it('leaves no tensors behind', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 8, 8, 4]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.split(tf.tile(tf.concat([x, x], 3), [1, 2, 1, 1]), 2, 3);
    });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
