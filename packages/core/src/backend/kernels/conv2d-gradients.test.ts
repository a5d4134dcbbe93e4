import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { initBackend, useNativeKernels } from '../../index.js';
import { testBackendNames } from '../../testing/index.js';
import { convGeometry, type ConvPadding } from './conv-geometry.js';
import { conv2dFilterGradient } from './conv2d-backprop-filter.js';
import { conv2dInputGradient } from './conv2d-backprop-input.js';
import { registerWasmTrainingKernels, wasmTrainingKernelsRegistered } from './index.js';
import { onCpu, relativeError, sinTensor } from './test-helpers.js';

interface ConvCase {
  name: string;
  input: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
  pad: ConvPadding;
}

const DOWNSAMPLE: ConvPadding = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];

/** Every conv shape the UNets use (3x3 same, 1x1, stride-2 downsampling), plus odd sizes. */
const CASES: ConvCase[] = [
  { name: '3x3 same stride 1', input: [2, 6, 6, 3], filter: [3, 3, 3, 4], stride: 1, pad: 'same' },
  { name: '3x3 same stride 1, odd size', input: [1, 7, 5, 4], filter: [3, 3, 4, 2], stride: 1, pad: 'same' },
  { name: '1x1 same stride 1', input: [2, 5, 5, 4], filter: [1, 1, 4, 3], stride: 1, pad: 'same' },
  { name: '1x1 valid stride 1', input: [1, 4, 4, 6], filter: [1, 1, 6, 5], stride: 1, pad: 'valid' },
  { name: '3x3 valid stride 1', input: [2, 6, 7, 3], filter: [3, 3, 3, 2], stride: 1, pad: 'valid' },
  { name: '3x3 pad 1 stride 1', input: [1, 6, 6, 2], filter: [3, 3, 2, 3], stride: 1, pad: 1 },
  { name: '3x3 downsample stride 2, even', input: [2, 8, 8, 3], filter: [3, 3, 3, 3], stride: 2, pad: DOWNSAMPLE },
  { name: '3x3 downsample stride 2, odd (7)', input: [1, 7, 7, 2], filter: [3, 3, 2, 4], stride: 2, pad: DOWNSAMPLE },
  { name: '3x3 same stride 2, odd', input: [1, 7, 9, 2], filter: [3, 3, 2, 3], stride: 2, pad: 'same' },
  { name: '3x3 valid stride 2', input: [2, 8, 7, 3], filter: [3, 3, 3, 2], stride: 2, pad: 'valid' },
  { name: '1x1 same stride 2', input: [1, 6, 5, 3], filter: [1, 1, 3, 4], stride: 2, pad: 'same' },
  {
    name: '3x3 asymmetric explicit stride 2',
    input: [1, 6, 6, 2],
    filter: [3, 3, 2, 2],
    stride: 2,
    pad: [
      [0, 0],
      [0, 1],
      [1, 0],
      [0, 0],
    ],
  },
  { name: '2x2 same stride 2', input: [1, 6, 7, 2], filter: [2, 2, 2, 3], stride: 2, pad: 'same' },
];

function caseTensors(testCase: ConvCase): { x: tf.Tensor4D; filter: tf.Tensor4D; dy: tf.Tensor4D } {
  const geometry = convGeometry('test', testCase.input, testCase.filter, { strides: testCase.stride, pad: testCase.pad });
  const x = sinTensor(testCase.input, 0.3) as tf.Tensor4D;
  const filter = sinTensor(testCase.filter, 1.1, 0.377) as tf.Tensor4D;
  const dy = sinTensor([geometry.batch, geometry.outHeight, geometry.outWidth, geometry.outChannels], 2.3, 0.513) as tf.Tensor4D;
  return { x, filter, dy };
}

/** tfjs cpu's own kernels: the reference. */
function cpuReference(testCase: ConvCase): Promise<Float32Array[]> {
  return onCpu(() => {
    const { x, filter, dy } = caseTensors(testCase);
    const stride: [number, number] = [testCase.stride, testCase.stride];
    const pad = testCase.pad;
    const results = [
      tf.conv2d(x, filter, stride, pad),
      tf.conv2dTranspose(dy, filter, testCase.input, stride, pad),
      tf.tidy(() => {
        // The filter gradient through tfjs' public op, as the Conv2D gradient calls it.
        const grads = tf.grads((input: tf.Tensor, weights: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(input as tf.Tensor4D, weights as tf.Tensor4D, stride, pad), dy)),
        )([x, filter]);
        return tf.concat([tf.reshape(grads[0], [-1]), tf.reshape(grads[1], [-1])]);
      }),
    ];
    tf.dispose([x, filter, dy]);
    return results;
  });
}

describe.each(testBackendNames())('conv2d gradient compositions on %s', (backend) => {
  // core's compositions themselves: @diffusion-ts/native's kernels (tested in that package) are turned off here.
  beforeAll(async () => {
    await initBackend(backend);
    await useNativeKernels(false);
    registerWasmTrainingKernels();
    if (backend === 'wasm') expect(wasmTrainingKernelsRegistered()).toBe(true);
  });
  afterAll(async () => {
    await useNativeKernels(true);
  });

  it.each(CASES)('$name: filter and input gradients match tfjs cpu', async (testCase) => {
    const [, expectedInputGradient, expectedBoth] = await cpuReference(testCase);
    const { x, filter, dy } = caseTensors(testCase);
    const geometry = convGeometry('test', testCase.input, testCase.filter, { strides: testCase.stride, pad: testCase.pad });
    const before = tf.memory().numTensors;
    const filterGradient = tf.tidy(() => conv2dFilterGradient(x, dy, geometry));
    const inputGradient = tf.tidy(() => conv2dInputGradient(dy, filter, geometry));
    expect(tf.memory().numTensors).toBe(before + 2);
    const xSize = x.size;
    expect(filterGradient.shape).toEqual(testCase.filter);
    expect(inputGradient.shape).toEqual(testCase.input);
    expect(relativeError(await inputGradient.data(), expectedInputGradient)).toBeLessThan(1e-5);
    expect(relativeError(await inputGradient.data(), expectedBoth.subarray(0, xSize))).toBeLessThan(1e-5);
    expect(relativeError(await filterGradient.data(), expectedBoth.subarray(xSize))).toBeLessThan(1e-5);
    tf.dispose([x, filter, dy, filterGradient, inputGradient]);
  });

  it('gives zero gradients for a batch of 0 and other empty operands (issue 17)', async () => {
    // Fill the heap with ones first, so leftover memory would show.
    tf.dispose(tf.tidy(() => tf.conv2d(tf.ones([4, 8, 8, 8]) as tf.Tensor4D, tf.ones([3, 3, 8, 8]) as tf.Tensor4D, 1, 'same')));
    const cases: { x: [number, number, number, number]; filter: [number, number, number, number] }[] = [
      { x: [0, 6, 6, 3], filter: [3, 3, 3, 4] },
      { x: [2, 6, 6, 3], filter: [3, 3, 3, 4] }, // dy is all zeros here: a control
    ];
    for (const { x: xShape, filter: filterShape } of cases) {
      const before = tf.memory().numTensors;
      const x = tf.ones(xShape) as tf.Tensor4D;
      const dy = tf.zeros([xShape[0], 6, 6, filterShape[3]]) as tf.Tensor4D;
      const geometry = convGeometry('test', xShape, filterShape, { strides: 1, pad: 'same' });
      const direct = tf.tidy(() => conv2dFilterGradient(x, dy, geometry));
      const attributes = { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape };
      const viaKernel = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attributes as unknown as tf.NamedAttrMap) as tf.Tensor4D;
      for (const gradient of [direct, viaKernel]) {
        expect(gradient.shape).toEqual(filterShape);
        expect(Array.from(await gradient.data()).every((value) => value === 0)).toBe(true);
      }
      tf.dispose([x, dy, direct, viaKernel]);
      expect(tf.memory().numTensors).toBe(before);
    }
    // No output channels: the input gradient is zero too.
    const dy = tf.zeros([2, 6, 6, 0]) as tf.Tensor4D;
    const filter = tf.zeros([3, 3, 3, 0]) as tf.Tensor4D;
    const geometry = convGeometry('test', [2, 6, 6, 3], [3, 3, 3, 0], { strides: 1, pad: 'same' });
    const inputGradient = tf.tidy(() => conv2dInputGradient(dy, filter, geometry));
    expect(inputGradient.shape).toEqual([2, 6, 6, 3]);
    expect(Array.from(await inputGradient.data()).every((value) => value === 0)).toBe(true);
    tf.dispose([dy, filter, inputGradient]);
  });

  it.each(CASES)('$name: tf.grads of conv2d matches tfjs cpu, without leaks', async (testCase) => {
    const [expectedForward, expectedInputGradient, expectedBoth] = await cpuReference(testCase);
    const { x, filter, dy } = caseTensors(testCase);
    const stride: [number, number] = [testCase.stride, testCase.stride];
    const pad = testCase.pad;
    const before = tf.memory().numTensors;
    const forward = tf.conv2d(x, filter, stride, pad);
    const transposed = tf.conv2dTranspose(dy, filter, testCase.input, stride, pad);
    const both = tf.tidy(() => {
      const grads = tf.grads((input: tf.Tensor, weights: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(input as tf.Tensor4D, weights as tf.Tensor4D, stride, pad), dy)),
      )([x, filter]);
      return tf.concat([tf.reshape(grads[0], [-1]), tf.reshape(grads[1], [-1])]);
    });
    expect(tf.memory().numTensors).toBe(before + 3);
    expect(relativeError(await forward.data(), expectedForward)).toBeLessThan(1e-5);
    expect(relativeError(await transposed.data(), expectedInputGradient)).toBeLessThan(1e-5);
    expect(relativeError((await both.data()).subarray(0, x.size), expectedBoth.subarray(0, x.size))).toBeLessThan(1e-5);
    expect(relativeError((await both.data()).subarray(x.size), expectedBoth.subarray(x.size))).toBeLessThan(1e-5);
    tf.dispose([x, filter, dy, forward, transposed, both]);
    expect(tf.memory().numTensors).toBe(before - 3);
  });
});
