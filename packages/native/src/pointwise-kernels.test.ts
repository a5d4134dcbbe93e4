import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { expect, it } from 'vitest';

import { ADAMW_UPDATE_KERNEL, GROUP_NORM_KERNEL, SILU_GRAD_KERNEL, SILU_KERNEL } from './fused-kernels.js';
import { registerNativeWasmKernels } from './kernel-registry.js';
import { describeNative, expectMatchesCpu, loadForTests, randomValues, relativeError, runOn } from './test-helpers.js';
import { nativeKernelCallCount } from './wasm-heap.js';

const loading = await loadForTests('pointwise kernel');
if (loading.available) registerNativeWasmKernels();

describeNative('native pointwise kernels', loading.available, () => {
  const binary: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor]> = [
    ['Add', tf.add],
    ['Sub', tf.sub],
    ['Multiply', tf.mul],
    ['RealDiv', (a, b) => tf.div(a, tf.add(tf.abs(b), 0.5))],
  ];
  const shapes = [
    { a: [2, 5, 5, 7], b: [2, 5, 5, 7] },
    { a: [2, 5, 5, 7], b: [7] },
    { a: [7], b: [2, 5, 5, 7] },
    { a: [1, 1, 1, 7], b: [3, 4, 4, 7] },
    { a: [3, 4, 4, 7], b: [] },
    { a: [], b: [1000003] },
  ];
  for (const [name, op] of binary) {
    it.each(shapes)(`${name} of $a and $b matches cpu`, async ({ a, b }) => {
      await expectMatchesCpu([a, b], (x, y) => op(x, y), [name]);
    });
  }

  it('broadcasts that are not periodic fall back to wasm and still match', async () => {
    const before = nativeKernelCallCount('Add');
    await expectMatchesCpu(
      [
        [2, 1, 3],
        [1, 4, 1],
      ],
      (x, y) => tf.add(x, y),
      [],
    );
    expect(nativeKernelCallCount('Add')).toBe(before);
  });

  it.each([
    ['Square', tf.square],
    ['Sqrt', (x: tf.Tensor) => tf.sqrt(tf.abs(x))],
    ['Rsqrt', (x: tf.Tensor) => tf.rsqrt(tf.add(tf.abs(x), 0.1))],
    ['Neg', tf.neg],
    ['Sigmoid', (x: tf.Tensor) => tf.sigmoid(tf.mul(x, 30))],
  ] as const)('%s matches cpu', async (name, op) => {
    await expectMatchesCpu([[1000003]], (x) => op(x), [name]);
  });

  it.each([
    { shape: [8, 6, 6, 13], axis: [0, 1, 2], keepDims: false },
    { shape: [8, 6, 6, 13], axis: [0, 1, 2], keepDims: true },
    { shape: [8, 6, 6, 13], axis: [3], keepDims: false },
    { shape: [8, 6, 6, 13], axis: [1, 2, 3], keepDims: true },
    { shape: [200001], axis: [0], keepDims: false },
  ])('Sum of $shape over $axis (keepDims $keepDims) matches cpu', async ({ shape, axis, keepDims }) => {
    await expectMatchesCpu([shape], (x) => tf.sum(x, axis, keepDims), ['Sum']);
  });

  it('Sum over middle axes falls back and matches', async () => {
    await expectMatchesCpu([[4, 5, 6, 7]], (x) => tf.sum(x, [1, 2]), []);
  });

  it('AddN matches cpu', async () => {
    await expectMatchesCpu(
      [
        [3, 50, 7],
        [3, 50, 7],
        [3, 50, 7],
      ],
      (a, b, c) => tf.addN([a, b, c]),
      ['AddN'],
    );
  });

  it('Identity and a same-dtype Cast share the data, which outlives the input', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor1d([1, 2, 3]);
    const before = nativeKernelCallCount('Identity');
    const copy = tf.clone(x);
    const cast = tf.cast(x, 'float32');
    x.dispose();
    expect(Array.from(await copy.data())).toEqual([1, 2, 3]);
    expect(Array.from(await cast.data())).toEqual([1, 2, 3]);
    tf.dispose([copy, cast]);
    expect(nativeKernelCallCount('Identity')).toBeGreaterThanOrEqual(before);
    const ints = tf.cast(tf.tensor1d([1.7, -2.2]), 'int32');
    expect(Array.from(await ints.data())).toEqual([1, -2]);
    ints.dispose();
  });

  it('the fused SiLU and its gradient match x sigmoid(x) on cpu', async () => {
    const reference = await runOn('cpu', [[100003], [100003]], 3, (x, dy) => {
      const gradient = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.mul(input, tf.sigmoid(input)), dy)))(tf.mul(x, 8));
      return [tf.mul(tf.mul(x, 8), tf.sigmoid(tf.mul(x, 8))), gradient];
    });
    const actual = await runOn('wasm', [[100003], [100003]], 3, (x, dy) => {
      const scaled = tf.mul(x, 8);
      const value = tf.engine().runKernel<tf.Tensor>(SILU_KERNEL, { x: scaled });
      const gradient = tf.engine().runKernel<tf.Tensor>(SILU_GRAD_KERNEL, { x: scaled, dy: dy });
      return [value, gradient];
    });
    actual.forEach((output, index) =>
      expect(relativeError(output.data as Float32Array, reference[index].data as Float32Array)).toBeLessThanOrEqual(1e-6),
    );
  });

  it('the AdamW update matches its tfjs composition (PyTorch order)', async () => {
    const attributes = {
      learningRate: 3e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay: 0.01,
      correction1: 1 - 0.9 ** 3,
      correction2: 1 - 0.999 ** 3,
    };
    const shape = [70001];
    const reference = await runOn('cpu', [shape, shape, shape, shape], 5, (w, g, m, v) => {
      const { learningRate: lr, beta1, beta2, epsilon, weightDecay, correction1, correction2 } = attributes;
      const m2 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
      const v2 = tf.add(tf.mul(tf.abs(v), beta2), tf.mul(tf.square(g), 1 - beta2));
      const denominator = tf.add(tf.div(tf.sqrt(v2), Math.sqrt(correction2)), epsilon);
      return [tf.sub(tf.mul(w, 1 - lr * weightDecay), tf.mul(tf.div(m2, denominator), lr / correction1)), m2, v2];
    });
    const actual = await runOn('wasm', [shape, shape, shape, shape], 5, (w, g, m, v) =>
      tf
        .engine()
        .runKernel<tf.Tensor[]>(ADAMW_UPDATE_KERNEL, { variable: w, gradient: g, firstMoment: m, secondMoment: tf.abs(v) }, attributes),
    );
    actual.forEach((output, index) =>
      expect(relativeError(output.data as Float32Array, reference[index].data as Float32Array)).toBeLessThanOrEqual(1e-6),
    );
  });

  it.each([
    { shape: [3, 37, 12], groups: 4 },
    { shape: [2, 64, 32], groups: 32 },
    { shape: [1, 5, 6], groups: 1 },
  ])('GroupNorm of $shape in $groups groups matches the composition on cpu', async ({ shape, groups }) => {
    const [batch, pixels, channels] = shape as [number, number, number];
    const perGroup = channels / groups;
    const shapes = [shape, [channels], [channels]];
    const reference = await runOn('cpu', shapes, 11, (x, gamma, beta) => {
      const grouped = tf.reshape(x, [batch, pixels, groups, perGroup]);
      const mean = tf.mean(grouped, [1, 3], true);
      const centered = tf.sub(grouped, mean);
      const inverse = tf.rsqrt(tf.add(tf.mean(tf.square(centered), [1, 3], true), 1e-6));
      const flatCentered = tf.reshape(centered, shape);
      const inverseStd = tf.reshape(tf.broadcastTo(inverse, [batch, 1, groups, perGroup]), [batch, 1, channels]);
      return [tf.add(tf.mul(tf.mul(flatCentered, inverseStd), gamma), beta), flatCentered, inverseStd];
    });
    const actual = await runOn('wasm', shapes, 11, (x, gamma, beta) =>
      tf.engine().runKernel<tf.Tensor[]>(GROUP_NORM_KERNEL, { x: x, gamma: gamma, beta: beta }, { groups, epsilon: 1e-6 }),
    );
    actual.forEach((output, index) =>
      expect(relativeError(output.data as Float32Array, reference[index].data as Float32Array)).toBeLessThanOrEqual(1e-5),
    );
  });

  it('leaves no tensors behind', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(randomValues(4096, 9), [4, 32, 32]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.sum(tf.sigmoid(tf.add(tf.mul(x, x), tf.neg(x))), [0, 1]);
    });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
