import { SILU_KERNEL } from '@diffusion-ts/native/fused-kernels';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { initBackend } from '../backend/init-backend.js';
import { testBackendNames } from '../testing/index.js';
import { probeNativeKernels, useNativeKernels } from '../backend/native-kernels.js';
import { silu } from './silu.js';

describe.each(testBackendNames())('silu on %s', (backend) => {
  afterAll(async () => {
    await useNativeKernels(true);
  });

  it('equals x sigmoid(x) and its gradient', async () => {
    await initBackend('cpu');
    const x = tf.tensor1d(Array.from({ length: 2001 }, (_, i) => (i - 1000) / 50));
    const dy = tf.tensor1d(Array.from({ length: 2001 }, (_, i) => Math.cos(i)));
    const reference = tf.tidy(() => {
      const gradient = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.mul(input, tf.sigmoid(input)), dy)))(x);
      return [tf.mul(x, tf.sigmoid(x)), gradient];
    });
    const expected = await Promise.all(reference.map((t) => t.data()));
    tf.dispose([x, dy, ...reference]);

    await initBackend(backend);
    const native = backend === 'wasm' && (await probeNativeKernels()).isa !== undefined;
    if (backend === 'wasm') expect(tf.getKernel(SILU_KERNEL, 'wasm') !== undefined).toBe(native);
    const input = tf.variable(tf.tensor1d(Array.from({ length: 2001 }, (_, i) => (i - 1000) / 50)));
    const upstream = tf.tensor1d(Array.from({ length: 2001 }, (_, i) => Math.cos(i)));
    const before = tf.memory().numTensors;
    const [value, gradient] = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(silu(input), upstream)) as tf.Scalar, [input]);
      return [silu(input), grads[input.name]];
    });
    const actual = [await value.data(), await gradient.data()];
    tf.dispose([value, gradient]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([input, upstream]);
    actual.forEach((values, index) => {
      const reference = expected[index];
      let worst = 0;
      for (let i = 0; i < reference.length; i += 1)
        worst = Math.max(worst, Math.abs(values[i] - reference[i]) / Math.max(1, Math.abs(reference[i])));
      expect(worst).toBeLessThanOrEqual(2e-6);
    });
  });
});
