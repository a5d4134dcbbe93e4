import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's main entry registers no gradients (core does this in its backend setup).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { nativeWasmKernelsRegistered, registerNativeWasmKernels, unregisterNativeWasmKernels } from './kernel-registry.js';
import { expectMatchesCpu, loadForTests, randomValues } from './test-helpers.js';
import { nativeKernelCallCount } from './wasm-heap.js';

const KERNEL_NAMES = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul', '_FusedMatMul'];

// Registered before the wasm backend starts (as core does): tfjs then runs the setupFuncs our
// configs carry over from wasm's kernels, which the fallbacks need.
const wasmKernelsBefore = new Map(KERNEL_NAMES.map((name) => [name, tf.getKernel(name, 'wasm')]));
const loading = await loadForTests('wasm kernel');
const registeredAtStart = loading.available && registerNativeWasmKernels();

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
  dilations?: number;
}

const PAD_1: Pad = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];

/** The UNet's convolutions (3x3 'same', 3x3 stride 2 down-sampling both ways, 1x1 shortcuts) and a few odd ones. */
const CONVS: ConvCase[] = [
  { x: [1, 7, 9, 3], filter: [3, 3, 3, 16], strides: 1, pad: 'same' },
  { x: [3, 8, 8, 32], filter: [3, 3, 32, 64], strides: 1, pad: 'same' },
  { x: [3, 7, 9, 16], filter: [3, 3, 16, 16], strides: 2, pad: PAD_1 },
  { x: [1, 8, 8, 24], filter: [3, 3, 24, 24], strides: 2, pad: PAD_1 },
  { x: [1, 7, 9, 8], filter: [3, 3, 8, 24], strides: 2, pad: 'same' },
  { x: [3, 7, 9, 64], filter: [1, 1, 64, 32], strides: 1, pad: 'valid' },
  { x: [1, 9, 7, 64], filter: [3, 3, 64, 3], strides: 1, pad: 'same' },
  { x: [2, 8, 8, 4], filter: [2, 2, 4, 6], strides: 2, pad: 'valid' },
  // Padding that differs between top and left ('same' with stride 2 pads 0 on top, 1 on the left here).
  { x: [2, 8, 7, 5], filter: [3, 3, 5, 6], strides: 2, pad: 'same' },
  {
    x: [1, 7, 9, 4],
    filter: [3, 3, 4, 5],
    strides: 1,
    pad: [
      [0, 0],
      [2, 0],
      [0, 1],
      [0, 0],
    ],
  },
  // Rectangular filters and strides.
  { x: [1, 6, 10, 3], filter: [3, 5, 3, 4], strides: [1, 2], pad: 'same' },
  { x: [2, 9, 6, 4], filter: [1, 3, 4, 8], strides: [2, 1], pad: 'valid' },
];

const describeNative = describe.skipIf(!loading.available);

describeNative('native wasm kernels', () => {
  beforeAll(async () => {
    expect(registeredAtStart).toBe(true);
    await tf.setBackend('wasm');
  });

  afterAll(() => {
    unregisterNativeWasmKernels();
  });

  it("are registered over wasm's own, keeping their setup functions", () => {
    expect(nativeWasmKernelsRegistered()).toBe(true);
    for (const name of KERNEL_NAMES) {
      const current = tf.getKernel(name, 'wasm');
      const original = wasmKernelsBefore.get(name);
      expect(current?.kernelFunc).not.toBe(original?.kernelFunc);
      expect(current?.setupFunc).toBe(original?.setupFunc);
    }
  });

  describe('Conv2D', () => {
    it.each(CONVS)('matches cpu for x $x, filter $filter, stride $strides, pad $pad', async ({ x, filter, strides, pad }) => {
      await expectMatchesCpu([x, filter], (xs, w) => tf.conv2d(xs as tf.Tensor4D, w as tf.Tensor4D, strides, pad), ['Conv2D']);
    });

    it('matches cpu for a dilated filter', async () => {
      await expectMatchesCpu(
        [
          [2, 9, 7, 5],
          [3, 3, 5, 7],
        ],
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same', 'NHWC', 2),
        ['Conv2D'],
      );
    });

    it('returns an empty output for an empty batch', async () => {
      const before = nativeKernelCallCount('Conv2D');
      const y = tf.conv2d(tf.zeros([0, 7, 9, 3]) as tf.Tensor4D, tf.ones([3, 3, 3, 4]) as tf.Tensor4D, 1, 'same');
      expect(y.shape).toEqual([0, 7, 9, 4]);
      expect(await y.data()).toHaveLength(0);
      expect(nativeKernelCallCount('Conv2D')).toBe(before);
      tf.dispose(y);
    });
  });

  describe('FusedConv2D', () => {
    it.each<ConvCase>([
      { x: [3, 7, 9, 16], filter: [3, 3, 16, 32], strides: 1, pad: 'same' },
      { x: [1, 8, 8, 8], filter: [3, 3, 8, 12], strides: 2, pad: PAD_1 },
      { x: [3, 7, 9, 32], filter: [1, 1, 32, 64], strides: 1, pad: 'valid' },
      { x: [2, 8, 7, 5], filter: [3, 3, 5, 6], strides: 2, pad: 'same' },
    ])('with a bias matches cpu for x $x, filter $filter', async ({ x, filter, strides, pad }) => {
      await expectMatchesCpu(
        [x, filter, [filter[3]]],
        (xs, w, bias) => tf.fused.conv2d({ x: xs as tf.Tensor4D, filter: w as tf.Tensor4D, strides, pad, bias }),
        ['FusedConv2D'],
      );
    });

    it("falls back to wasm's kernel for a relu activation, still matching cpu", async () => {
      const before = nativeKernelCallCount('FusedConv2D');
      await expectMatchesCpu(
        [[1, 7, 9, 8], [3, 3, 8, 16], [16]],
        (x, w, bias) =>
          tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias, activation: 'relu' }),
        [],
      );
      expect(nativeKernelCallCount('FusedConv2D')).toBe(before);
    });
  });

  describe('conv2d gradients', () => {
    it.each(CONVS)('dx and dw match cpu for x $x, filter $filter, stride $strides, pad $pad', async ({ x, filter, strides, pad }) => {
      const outShape = tf.tidy(() => tf.conv2d(tf.zeros(x) as tf.Tensor4D, tf.zeros(filter) as tf.Tensor4D, strides, pad).shape);
      await expectMatchesCpu(
        [x, filter, outShape],
        (xs, w, dy) =>
          tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad), dy)))([
            xs,
            w,
          ]),
        ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'],
      );
    });

    it('variableGrads through a fused conv with bias match cpu (dw, dbias, via dx of a second layer)', async () => {
      await expectMatchesCpu(
        [[3, 7, 9, 8], [3, 3, 8, 16], [16], [3, 3, 16, 4]],
        (x, w1, b1, w2) => {
          const filter1 = tf.variable(w1, true, undefined);
          const bias1 = tf.variable(b1, true, undefined);
          const filter2 = tf.variable(w2, true, undefined);
          const { value, grads } = tf.variableGrads(() => {
            const hidden = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter1 as tf.Tensor4D, strides: 2, pad: PAD_1, bias: bias1 });
            const y = tf.conv2d(hidden, filter2 as tf.Tensor4D, 1, 'same');
            return tf.mean(tf.square(y));
          }, [filter1, bias1, filter2]);
          const results = [value, grads[filter1.name], grads[bias1.name], grads[filter2.name]];
          tf.dispose([filter1, bias1, filter2]);
          return results;
        },
        ['FusedConv2D', 'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'],
      );
    });
  });

  describe('BatchMatMul', () => {
    const transposes = [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const;
    it.each(transposes)('matches cpu with transposeA %s, transposeB %s', async (transposeA, transposeB) => {
      const [M, K, N] = [5, 4, 6];
      const a = transposeA ? [K, M] : [M, K];
      const b = transposeB ? [N, K] : [K, N];
      await expectMatchesCpu([a, b], (x, y) => tf.matMul(x, y, transposeA, transposeB), ['BatchMatMul']);
      await expectMatchesCpu(
        [
          [3, ...a],
          [3, ...b],
        ],
        (x, y) => tf.matMul(x, y, transposeA, transposeB),
        ['BatchMatMul'],
        2,
      );
      await expectMatchesCpu([[2, 3, ...a], b], (x, y) => tf.matMul(x, y, transposeA, transposeB), ['BatchMatMul'], 3);
    });

    it.each([
      { a: [2, 3, 5, 4], b: [4, 6] },
      { a: [1, 5, 4], b: [3, 4, 6] },
      { a: [5, 4], b: [2, 3, 4, 6] },
      { a: [2, 1, 5, 4], b: [1, 4, 6] },
      { a: [2, 3, 5, 4], b: [2, 3, 4, 6] },
    ])('broadcasts batch shapes $a x $b like cpu', async ({ a, b }) => {
      await expectMatchesCpu([a, b], (x, y) => tf.matMul(x, y), ['BatchMatMul']);
    });

    it('matches cpu for sizes that are not multiples of the register tile', async () => {
      await expectMatchesCpu(
        [
          [37, 129],
          [129, 53],
        ],
        (x, y) => tf.matMul(x, y),
        ['BatchMatMul'],
      );
      await expectMatchesCpu(
        [
          [2, 200, 64],
          [2, 96, 200],
        ],
        (x, y) => tf.matMul(x, y, true, true),
        ['BatchMatMul'],
      );
    });

    it('matches cpu through the gradient of a matMul (transposed products)', async () => {
      await expectMatchesCpu(
        [
          [3, 7, 5],
          [3, 5, 9],
        ],
        (x, y) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(a, b))))([x, y]),
        ['BatchMatMul'],
      );
    });
  });

  describe('_FusedMatMul', () => {
    it.each([
      { transposeA: false, transposeB: false, bias: [6] },
      { transposeA: true, transposeB: false, bias: [6] },
      { transposeA: false, transposeB: true, bias: [1, 6] },
      { transposeA: true, transposeB: true, bias: [6] },
    ])('with a bias $bias matches cpu (transposeA $transposeA, transposeB $transposeB)', async ({ transposeA, transposeB, bias }) => {
      const [M, K, N] = [5, 4, 6];
      await expectMatchesCpu(
        [transposeA ? [3, K, M] : [3, M, K], transposeB ? [3, N, K] : [3, K, N], bias],
        (a, b, c) => tf.fused.matMul({ a: a, b: b, transposeA, transposeB, bias: c }),
        ['_FusedMatMul'],
      );
    });

    it('with a bias and a broadcast batch matches cpu', async () => {
      await expectMatchesCpu([[1, 5, 4], [3, 4, 6], [6]], (a, b, c) => tf.fused.matMul({ a: a, b: b, bias: c }), ['_FusedMatMul']);
      await expectMatchesCpu(
        [[3, 4, 5], [1, 6, 4], [6]],
        (a, b, c) => tf.fused.matMul({ a: a, b: b, bias: c, transposeA: true, transposeB: true }),
        ['_FusedMatMul'],
      );
    });

    it('without a bias matches cpu', async () => {
      await expectMatchesCpu(
        [
          [4, 7],
          [7, 3],
        ],
        (a, b) => tf.fused.matMul({ a: a, b: b }),
        ['_FusedMatMul'],
      );
    });

    it('falls back for a relu activation, still matching cpu', async () => {
      const before = nativeKernelCallCount('_FusedMatMul');
      await expectMatchesCpu([[4, 7], [7, 3], [3]], (a, b, c) => tf.fused.matMul({ a: a, b: b, bias: c, activation: 'relu' }), []);
      expect(nativeKernelCallCount('_FusedMatMul')).toBe(before);
    });
  });

  it('give zero conv gradients for a batch of 0 (issue 17)', async () => {
    await tf.setBackend('wasm');
    // Fill the heap with non-zero values first, so leftover memory would show.
    tf.dispose(tf.tidy(() => tf.conv2d(tf.ones([4, 8, 8, 8]) as tf.Tensor4D, tf.ones([3, 3, 8, 8]) as tf.Tensor4D, 1, 'same')));
    const before = nativeKernelCallCount('Conv2DBackpropFilter');
    const x = tf.zeros([0, 6, 6, 3]);
    const dy = tf.zeros([0, 6, 6, 4]);
    const attributes = { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [3, 3, 3, 4] };
    const dw = tf.engine().runKernel<tf.Tensor>('Conv2DBackpropFilter', { x, dy }, attributes as unknown as tf.NamedAttrMap);
    expect(dw.shape).toEqual([3, 3, 3, 4]);
    expect(Array.from(await dw.data()).every((value) => value === 0)).toBe(true);
    expect(nativeKernelCallCount('Conv2DBackpropFilter')).toBe(before + 1);
    // Through tf.grads as training would see it.
    const grads = tf.tidy(() =>
      tf.grads((input: tf.Tensor, weights: tf.Tensor) => tf.sum(tf.conv2d(input as tf.Tensor4D, weights as tf.Tensor4D, 1, 'same')))([
        tf.zeros([0, 6, 6, 3]),
        tf.ones([3, 3, 3, 4]),
      ]),
    );
    expect(Array.from(await grads[1].data()).every((value) => value === 0)).toBe(true);
    tf.dispose([x, dy, dw, ...grads]);
  });

  it("leave no tensors behind in a tidy'd run", async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(randomValues(2 * 7 * 9 * 8, 1), [2, 7, 9, 8]) as tf.Tensor4D;
    const w = tf.tensor(randomValues(3 * 3 * 8 * 8, 2), [3, 3, 8, 8]) as tf.Tensor4D;
    const bias = tf.tensor(randomValues(8, 3), [8]);
    const step = () =>
      tf.tidy(() => {
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: 2, pad: PAD_1, bias })),
        )([x, w]);
        const product = tf.fused.matMul({ a: tf.reshape(dw, [72, 8]), b: tf.reshape(dx, [8, -1]), transposeB: false, bias: undefined });
        return tf.sum(tf.matMul(product, product, true, false));
      });
    tf.dispose(step()); // the first run may create lasting tensors (tfjs caches scalars)
    const tensors = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    tf.dispose(step());
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.memory().numBytes).toBe(bytes);
    tf.dispose([x, w, bias]);
  });

  it('unregister restores the original kernels, idempotently, and register again takes over', () => {
    expect(registerNativeWasmKernels()).toBe(true); // idempotent: the originals stay the fallbacks
    unregisterNativeWasmKernels();
    expect(nativeWasmKernelsRegistered()).toBe(false);
    for (const name of KERNEL_NAMES) {
      expect(tf.getKernel(name, 'wasm')?.kernelFunc).toBe(wasmKernelsBefore.get(name)?.kernelFunc);
    }
    unregisterNativeWasmKernels();
    for (const name of KERNEL_NAMES) {
      expect(tf.getKernel(name, 'wasm')?.kernelFunc).toBe(wasmKernelsBefore.get(name)?.kernelFunc);
    }
    expect(registerNativeWasmKernels()).toBe(true);
    expect(nativeWasmKernelsRegistered()).toBe(true);
    unregisterNativeWasmKernels();
    for (const name of KERNEL_NAMES) {
      expect(tf.getKernel(name, 'wasm')?.kernelFunc).toBe(wasmKernelsBefore.get(name)?.kernelFunc);
    }
  });

  it('take a replacement kernel as the new fallback and leave it in place on unregister', () => {
    const replacement: tf.KernelFunc = () => {
      throw new Error('not called');
    };
    const original = tf.getKernel('Tile', 'wasm'); // untouched by us: just to show the registry is intact
    expect(registerNativeWasmKernels()).toBe(true);
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: replacement });
    expect(nativeWasmKernelsRegistered()).toBe(false);
    unregisterNativeWasmKernels();
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).toBe(replacement);
    expect(registerNativeWasmKernels()).toBe(true);
    unregisterNativeWasmKernels();
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).toBe(replacement);
    // Put wasm's own back for the rest of this file.
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel(wasmKernelsBefore.get('BatchMatMul')!);
    expect(tf.getKernel('Tile', 'wasm')).toBe(original);
    expect(registerNativeWasmKernels()).toBe(true);
  });
});
