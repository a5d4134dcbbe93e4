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

describe('AdamW learning-rate schedules', () => {
  // Diffusers' get_scheduler (peak 0.1, 3 warm-up steps, 10 steps) at 0-based steps k = 0..9,
  // printed by scripts/reference/lr_schedules.py; update s (1-based) gets the rate of k = s.
  const DIFFUSERS = {
    constant: [0, 0.03333333333333333, 0.06666666666666667, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
    linear: [
      0, 0.03333333333333333, 0.06666666666666667, 0.1, 0.08571428571428572, 0.07142857142857144, 0.05714285714285714, 0.04285714285714286,
      0.02857142857142857, 0.014285714285714285,
    ],
    cosine: [
      0, 0.03333333333333333, 0.06666666666666667, 0.1, 0.09504844339512096, 0.08117449009293669, 0.06112604669781572, 0.03887395330218429,
      0.018825509907063328, 0.004951556604879049,
    ],
  } as const;

  it.each(['constant', 'linear', 'cosine'] as const)('%s follows Diffusers’ get_scheduler, one step on', (schedule) => {
    const optimizer = new AdamW([], { learningRate: 0.1, warmupSteps: 3, schedule, totalSteps: 10 });
    for (let step = 1; step <= 9; step++) expect(optimizer.learningRateAt(step)).toBeCloseTo(DIFFUSERS[schedule][step], 15);
    expect(optimizer.learningRateAt(10)).toBe(schedule === 'constant' ? 0.1 : 0);
    expect(optimizer.learningRateAt(12)).toBe(schedule === 'constant' ? 0.1 : 0);
  });

  it('refuses a decay without a reachable end and unknown names', () => {
    expect(() => new AdamW([], { schedule: 'linear' })).toThrow(/needs totalSteps/);
    expect(() => new AdamW([], { schedule: 'cosine', warmupSteps: 10, totalSteps: 10 })).toThrow(
      /totalSteps must be an integer above warmupSteps/,
    );
    expect(() => new AdamW([], { schedule: 'step' as 'linear', totalSteps: 10 })).toThrow(
      /schedule must be one of constant, linear, cosine/,
    );
  });
});
