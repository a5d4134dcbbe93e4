import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../backend/init-backend.js';
import { testBackendNames } from '../testing/index.js';
import { AdamW } from './adamw.js';

describe.each(testBackendNames())('AdamW on %s', (backend) => {
  it('follows PyTorch’s AdamW update and leaves no tensors behind', async () => {
    await initBackend(backend);
    const before = tf.memory().numTensors;
    const weight = tf.tidy(() => tf.variable(tf.tensor1d([1, -2, 3]), true, `adamw-test-${backend}`));
    const optimizer = new AdamW([weight], { learningRate: 0.1, weightDecay: 0.01 });
    const gradient = tf.tensor1d([0.5, -1, 2]);
    optimizer.applyGradients([gradient]);
    // Step 1: m̂ = g, v̂ = g², so the update is lr · g / (|g| + ε) plus the decoupled decay lr · λ · w.
    const expected = [1, -2, 3].map((w, i) => {
      const g = [0.5, -1, 2][i];
      return w * (1 - 0.1 * 0.01) - (0.1 * g) / (Math.abs(g) + 1e-8);
    });
    const actual = Array.from(await weight.data());
    actual.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 6));
    optimizer.dispose();
    tf.dispose([weight, gradient]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
