import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { initBackend, trainingGap } from './init-backend.js';
import { registerWasmTrainingKernels, wasmTrainingKernelsRegistered } from './kernels/index.js';
import { nativeKernelsStatus, probeNativeKernels, setNativeThreads, useNativeKernels } from './native-kernels.js';

const probe = await probeNativeKernels();
if (probe.isa === undefined) console.warn(`native kernel integration tests skipped: ${probe.reason}`);

/** A conv + matMul computation and its gradients, as training runs them. */
function convAndGradients(x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor[] {
  const gradients = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))));
  return [tf.conv2d(x, filter, 1, 'same'), ...gradients([x, filter])];
}

async function runOn(backend: 'cpu' | 'wasm'): Promise<Float32Array[]> {
  await initBackend(backend);
  const x = tf.tensor4d(
    Array.from({ length: 2 * 6 * 6 * 5 }, (_, i) => Math.sin(i)),
    [2, 6, 6, 5],
  );
  const filter = tf.tensor4d(
    Array.from({ length: 3 * 3 * 5 * 4 }, (_, i) => Math.cos(i)),
    [3, 3, 5, 4],
  );
  const outputs = convAndGradients(x, filter);
  const values = await Promise.all(outputs.map((output) => output.data() as Promise<Float32Array>));
  tf.dispose([x, filter, ...outputs]);
  return values;
}

describe.skipIf(probe.isa === undefined)('native kernels on the wasm backend', () => {
  afterAll(async () => {
    await useNativeKernels(true);
  });

  it('are registered by initBackend("wasm") and survive registerWasmTrainingKernels', async () => {
    await initBackend('wasm');
    registerWasmTrainingKernels();
    const status = nativeKernelsStatus();
    expect(status.active).toBe(true);
    expect(['avx512', 'avx2-fma', 'generic']).toContain(status.isa);
    expect(trainingGap('wasm')).toBeUndefined();
    // core's own gradient kernels are the native ones' fallbacks, not the registered ones.
    expect(wasmTrainingKernelsRegistered()).toBe(false);
  });

  it("give the cpu backend's convolution and its gradients (relative 1e-5)", async () => {
    const expected = await runOn('cpu');
    const actual = await runOn('wasm');
    actual.forEach((values, index) => {
      const reference = expected[index];
      const scale = Math.max(...reference.map(Math.abs));
      const worst = Math.max(...values.map((value, i) => Math.abs(value - reference[i])));
      expect(worst / scale).toBeLessThanOrEqual(1e-5);
    });
  });

  it("turn off and on again, putting core's kernels back in between", async () => {
    await initBackend('wasm');
    const off = await useNativeKernels(false);
    expect(off).toEqual({ active: false, reason: 'turned off by useNativeKernels(false)' });
    expect(wasmTrainingKernelsRegistered()).toBe(true);
    expect((await useNativeKernels(true)).active).toBe(true);
  });

  it('take a thread count and refuse a bad one', async () => {
    await setNativeThreads(1);
    expect((await probeNativeKernels()).threads).toBe(1);
    await expect(setNativeThreads(0)).rejects.toThrow(/threads must be an integer from 1 to 64/);
    await setNativeThreads(2);
  });
});
