/**
 * More checks of the native elementwise kernels (`pointwise-kernels.ts`, `addon/pointwise.cc`)
 * beyond pointwise-kernels.test.ts: odd sizes (1, 7, 1000003), multi-dimensional trailing
 * broadcasts, per-element accuracy, large sums, gradients through the kernels, fallbacks for
 * other dtypes, and the addon functions themselves (AdamW against a plain float32 loop, results
 * independent of the thread count, bounds checks).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { describe, expect, it } from 'vitest';

import { loadedNativeAddon, type NativeAddon } from './addon.js';
import { registerNativeWasmKernels } from './kernel-registry.js';
import { describeNative, expectMatchesCpu, loadForTests, randomValues, relativeError, runOn, type Compute } from './test-helpers.js';
import { nativeKernelCallCount } from './wasm-heap.js';

const loading = await loadForTests('elementwise kernel');
if (loading.available) registerNativeWasmKernels();

/** The largest per-element error |a - e| / |e| (elements with |e| below `floor` count absolutely). */
function elementwiseError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-30): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let index = 0; index < expected.length; index++) {
    const e = expected[index];
    worst = Math.max(worst, Math.abs(actual[index] - e) / Math.max(Math.abs(e), floor));
  }
  return worst;
}

/** Runs `compute` on wasm (counting native calls of `kernels`) and on cpu; per-element errors and whether each kernel ran natively. */
async function compareElementwise(shapes: number[][], compute: Compute, kernels: string[], seed = 3) {
  const before = kernels.map((name) => nativeKernelCallCount(name));
  const actual = await runOn('wasm', shapes, seed, compute);
  const native = Object.fromEntries(kernels.map((name, index) => [name, nativeKernelCallCount(name) > before[index]]));
  const expected = await runOn('cpu', shapes, seed, compute);
  await tf.setBackend('wasm');
  expect(actual.map((output) => output.shape)).toEqual(expected.map((output) => output.shape));
  expect(native).toEqual(Object.fromEntries(kernels.map((name) => [name, true])));
  return actual.map((output, index) => elementwiseError(output.data as Float32Array, expected[index].data as Float32Array));
}

describeNative('native elementwise kernels, more cases', loading.available, () => {
  const binary: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor]> = [
    ['Add', tf.add],
    ['Sub', tf.sub],
    ['Multiply', tf.mul],
    ['RealDiv', tf.div],
  ];
  // [a, b]: same shapes of odd sizes, scalars both sides, a [1] against a matrix, and trailing
  // shapes of more than one axis (with and without leading 1s).
  const shapes: Array<[number[], number[]]> = [
    [[1], [1]],
    [[7], [7]],
    [[1000003], [1000003]],
    [[], []],
    [[1], [5, 7]],
    [
      [3, 5, 7],
      [4, 3, 5, 7],
    ],
    [
      [4, 3, 5, 7],
      [1, 5, 7],
    ],
    [
      [2, 9, 9, 13],
      [1, 1, 1, 13],
    ],
  ];
  for (const [name, op] of binary) {
    it.each(shapes)(`${name} of %j and %j matches cpu to 1e-6 per element`, async (a, b) => {
      const errors = await compareElementwise([a, b], (x, y) => op(x, name === 'RealDiv' ? tf.add(tf.abs(y), 0.25) : y), [name]);
      expect(Math.max(...errors)).toBeLessThanOrEqual(1e-6);
    });
  }

  it('float32 broadcasts per batch ([N, 1, 1, C]) and int32 arithmetic fall back and match', async () => {
    const multiplies = nativeKernelCallCount('Multiply');
    await expectMatchesCpu(
      [
        [3, 4, 4, 5],
        [3, 1, 1, 5],
      ],
      (x, y) => tf.mul(x, y),
      [],
    );
    expect(nativeKernelCallCount('Multiply')).toBe(multiplies);
    const ints = async (backend: string) => {
      await tf.setBackend(backend);
      const a = tf.tensor2d(
        [
          [1, -2, 3],
          [40, 50, -60],
        ],
        undefined,
        'int32',
      );
      const b = tf.tensor1d([7, 8, -9], 'int32');
      const results = [tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.addN([a, a])];
      const values = await Promise.all(results.map((result) => result.data()));
      tf.dispose([a, b, ...results]);
      return values.map((value) => Array.from(value));
    };
    const before = ['Add', 'Sub', 'Multiply', 'AddN'].map((name) => nativeKernelCallCount(name));
    const actual = await ints('wasm');
    expect(['Add', 'Sub', 'Multiply', 'AddN'].map((name) => nativeKernelCallCount(name))).toEqual(before);
    expect(actual).toEqual(await ints('cpu'));
    await tf.setBackend('wasm');
  });

  it.each([
    ['Square', (x: tf.Tensor) => tf.square(tf.mul(x, 1e3))],
    ['Sqrt', (x: tf.Tensor) => tf.sqrt(tf.mul(tf.abs(x), 1e4))],
    ['Rsqrt', (x: tf.Tensor) => tf.rsqrt(tf.add(tf.mul(tf.abs(x), 1e4), 1e-6))],
    ['Neg', tf.neg],
    // Over the whole range where sigmoid is a normal float32 (down to about 1e-38 at -87).
    ['Sigmoid', (x: tf.Tensor) => tf.sigmoid(tf.mul(x, 87))],
  ] as const)('%s matches cpu to 1e-6 per element at sizes 1, 7 and 1000003', async (name, op) => {
    for (const size of [1, 7, 1000003]) {
      const [error] = await compareElementwise([[size]], (x) => op(x), [name], size);
      expect(error).toBeLessThanOrEqual(1e-6);
    }
  });

  it.each([
    { shape: [8, 32, 32, 128], axis: [0, 1, 2], keepDims: false },
    { shape: [8, 32, 32, 128], axis: [0, 1, 2], keepDims: true },
    { shape: [8, 32, 32, 128], axis: [3], keepDims: false },
    { shape: [8, 32, 32, 128], axis: [-1], keepDims: true },
    { shape: [8, 32, 32, 128], axis: [0, 1, 2, 3], keepDims: true },
    { shape: [1000003], axis: undefined, keepDims: false },
    { shape: [1000003, 1], axis: [0], keepDims: false },
    { shape: [7], axis: [0], keepDims: false },
    { shape: [1], axis: [0], keepDims: true },
  ])('Sum of $shape over $axis (keepDims $keepDims) matches cpu to 1e-5 per element', async ({ shape, axis, keepDims }) => {
    // Offset values, so the sums are large and every float32 rounding would show.
    const [error] = await compareElementwise([shape], (x) => tf.sum(tf.add(x, 0.25), axis, keepDims), ['Sum']);
    expect(error).toBeLessThanOrEqual(1e-5);
  });

  it('AddN of 2 and of 5 tensors matches cpu at sizes 1, 7 and 1000003', async () => {
    for (const size of [1, 7, 1000003]) {
      await expectMatchesCpu([[size], [size]], (a, b) => tf.addN([a, b]), ['AddN']);
      await expectMatchesCpu(
        Array.from({ length: 5 }, () => [size]),
        (...inputs) => tf.addN(inputs),
        ['AddN'],
      );
    }
  });

  it('gradients through the native kernels (broadcast bias, scalar scale, sigmoid, sqrt, ...) match cpu', async () => {
    const f = (x: tf.Tensor, bias: tf.Tensor, scale: tf.Tensor) => {
      const z = tf.add(tf.mul(x, scale), bias);
      const gate = tf.sigmoid(tf.neg(z));
      const norm = tf.rsqrt(tf.add(tf.square(z), 1));
      return tf.sum(tf.sub(tf.mul(gate, norm), tf.div(tf.sqrt(tf.add(tf.square(x), 0.5)), tf.add(tf.square(bias), 2))));
    };
    const compute: Compute = (x, bias, scale) => {
      const { value, grads } = tf.valueAndGrads(f)([x, bias, tf.reshape(scale, [])]);
      return [value, ...grads];
    };
    const kernels = ['Add', 'Sub', 'Multiply', 'RealDiv', 'Sigmoid', 'Rsqrt', 'Square', 'Sqrt', 'Neg', 'Sum'];
    const errors = await expectMatchesCpu([[2, 6, 6, 16], [16], [1]], compute, kernels, 7);
    expect(Math.max(...errors)).toBeLessThanOrEqual(1e-5);
  });

  it('Identity shares the data of any dtype, which outlives the input; no tensors are left in a tidy', async () => {
    await tf.setBackend('wasm');
    const ints = tf.tensor1d([4, -5, 6], 'int32');
    const copy = tf.engine().runKernel<tf.Tensor>('Identity', { x: ints });
    expect(copy.dataId).toBe(ints.dataId);
    expect(copy.dtype).toBe('int32');
    ints.dispose();
    expect(Array.from(await copy.data())).toEqual([4, -5, 6]);
    copy.dispose();

    const x = tf.tensor(randomValues(2 * 8 * 8 * 16, 4), [2, 8, 8, 16]);
    const bias = tf.tensor(randomValues(16, 5), [16]);
    const tensors = tf.memory().numTensors;
    tf.tidy(() => {
      const y = tf.clone(tf.sigmoid(tf.add(tf.mul(x, 2), bias)));
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.div(tf.square(tf.add(a, b)), tf.addN([a, a, tf.sqrt(tf.abs(a))]))))([x, bias]);
      return tf.sum(y, [0, 1, 2]);
    }).dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    tf.dispose([x, bias]);
  });
});

/** How many elements of two float32 arrays differ in their bits (a fast check of large arrays). */
function differingBits(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let count = 0;
  for (let index = 0; index < x.length; index++) if (x[index] !== y[index]) count++;
  return count;
}

describe.skipIf(!loading.available)('the native elementwise addon functions', () => {
  const addon = () => loadedNativeAddon() as NativeAddon;

  /** PyTorch's AdamW in float32 (every operation rounded), scalars rounded like tfjs' scalars. */
  function adamReference(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: number[]) {
    const f = Math.fround;
    const [lr, beta1, beta2, epsilon, weightDecay, correction1, correction2] = h as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const b1 = f(beta1),
      c1m = f(1 - beta1),
      b2 = f(beta2),
      c2m = f(1 - beta2);
    const decay = f(1 - lr * weightDecay),
      sqrtC2 = f(Math.sqrt(correction2)),
      eps = f(epsilon),
      step = f(lr / correction1);
    const outW = new Float32Array(w.length),
      outM = new Float32Array(w.length),
      outV = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) {
      const mi = f(f(m[i] * b1) + f(g[i] * c1m));
      const vi = f(f(v[i] * b2) + f(f(g[i] * g[i]) * c2m));
      const decayed = f(w[i] * decay);
      const denominator = f(f(f(Math.sqrt(vi)) / sqrtC2) + eps);
      outW[i] = f(decayed - f(f(mi / denominator) * step));
      outM[i] = mi;
      outV[i] = vi;
    }
    return [outW, outM, outV];
  }

  it.each([1, 7, 1000003])(
    'adamUpdate of %i elements matches a plain float32 loop, with and without weight decay, on any thread count',
    (n) => {
      const threads = addon().info().threads;
      try {
        for (const weightDecay of [0.01, 0]) {
          const hyper = [3e-3, 0.9, 0.999, 1e-8, weightDecay, 1 - 0.9 ** 4, 1 - 0.999 ** 4];
          const heap = new Float32Array(7 * n + 3);
          heap.set(randomValues(4 * n, n + 17), 3);
          for (let i = 3 * n + 3; i < 4 * n + 3; i++) heap[i] = Math.abs(heap[i]) * 1e-3; // v >= 0
          const [w, g, m, v] = [0, 1, 2, 3].map((k) => heap.slice(3 + k * n, 3 + (k + 1) * n));
          const expected = adamReference(w, g, m, v, hyper);
          const results: Float32Array[][] = [];
          for (const count of [threads, 1, 3]) {
            addon().setThreads(count);
            heap.fill(Number.NaN, 3 + 4 * n);
            addon().adamUpdate(
              heap,
              3,
              3 + n,
              3 + 2 * n,
              3 + 3 * n,
              3 + 4 * n,
              3 + 5 * n,
              3 + 6 * n,
              n,
              ...(hyper as [number, number, number, number, number, number, number]),
            );
            results.push([4, 5, 6].map((k) => heap.slice(3 + k * n, 3 + (k + 1) * n)));
          }
          results.forEach((outputs) =>
            outputs.forEach((output, index) => expect(relativeError(output, expected[index])).toBeLessThanOrEqual(1e-6)),
          );
          // Every thread count gives the same bits.
          for (const outputs of results.slice(1))
            outputs.forEach((output, index) => expect(differingBits(output, results[0][index])).toBe(0));
        }
      } finally {
        addon().setThreads(threads);
      }
    },
  );

  it('adamUpdate may update in place (outputs over the inputs)', () => {
    const n = 100003;
    const heap = new Float32Array(4 * n);
    heap.set(randomValues(4 * n, 3));
    for (let i = 3 * n; i < 4 * n; i++) heap[i] = Math.abs(heap[i]);
    const hyper = [1e-3, 0.9, 0.999, 1e-8, 0.1, 0.1, 0.001] as const;
    const [w, g, m, v] = [0, 1, 2, 3].map((k) => heap.slice(k * n, (k + 1) * n));
    const expected = adamReference(w, g, m, v, [...hyper]);
    addon().adamUpdate(heap, 0, n, 2 * n, 3 * n, 0, 2 * n, 3 * n, n, ...hyper);
    [0, 2, 3].forEach((k, index) => expect(relativeError(heap.subarray(k * n, (k + 1) * n), expected[index])).toBeLessThanOrEqual(1e-6));
  });

  it('sums give the same bits on any thread count', () => {
    const threads = addon().info().threads;
    const [outer, inner] = [8 * 32 * 32, 128];
    const heap = new Float32Array(outer * inner + outer + inner);
    heap.set(randomValues(outer * inner, 21));
    const sums = (count: number) => {
      addon().setThreads(count);
      addon().reduceSum(heap, 0, outer * inner, outer, inner, true);
      addon().reduceSum(heap, 0, outer * inner + inner, outer, inner, false);
      return heap.slice(outer * inner);
    };
    try {
      const reference = sums(1);
      expect(differingBits(sums(threads), reference)).toBe(0);
      expect(differingBits(sums(5), reference)).toBe(0);
    } finally {
      addon().setThreads(threads);
    }
  });

  it('refuses regions outside the array and inconsistent sizes instead of touching them', () => {
    const heap = new Float32Array(64);
    expect(() => addon().binary(heap, 0, 0, 32, 32, 32, 40, 32)).toThrow(RangeError); // out runs past the end
    expect(() => addon().binary(heap, 0, 0, 10, 16, 3, 32, 10)).toThrow(RangeError); // 3 does not divide 10
    expect(() => addon().binary(heap, 0, 0, 5, 16, 5, 32, 10)).toThrow(RangeError); // neither side has n
    expect(() => addon().binary(heap, 9, 0, 8, 16, 8, 32, 8)).toThrow(RangeError); // no such op
    expect(() => addon().unary(heap, 0, 60, 0, 8)).toThrow(RangeError);
    expect(() => addon().unary(heap, 0, -1, 0, 8)).toThrow(RangeError);
    expect(() => addon().reduceSum(heap, 0, 63, 8, 8, true)).toThrow(RangeError); // x is all 64, out overlaps its end
    expect(() => addon().reduceSum(heap, 0, 0, 9, 8, false)).toThrow(RangeError);
    expect(() => addon().addN(heap, [0, 60], 8, 8)).toThrow(RangeError);
    expect(() => addon().addN(heap, [], 8, 8)).toThrow(RangeError);
    expect(() => addon().adamUpdate(heap, 0, 8, 16, 24, 32, 40, 57, 8, 1e-3, 0.9, 0.999, 1e-8, 0, 0.1, 0.1)).toThrow(RangeError);
    expect(() => addon().adamUpdate(heap, 0, 8, 16, 24, 32, 40, 48, 8, 1e-3, 0.9, 0.999, 1e-8, 0, 0, 0.1)).toThrow(RangeError);
    expect(() => addon().adamUpdate(heap, 0, 8, 16, 24, 32, 40, 48, 8, Number.NaN, 0.9, 0.999, 1e-8, 0, 0.1, 0.1)).toThrow(RangeError);
  });
});
