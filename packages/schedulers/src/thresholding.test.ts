import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { boundOriginalSample, dynamicThreshold } from './thresholding.js';
import { errorAgainst, wave } from './testing/inputs.js';
import { referenceThreshold } from './testing/reference.js';

describe.each(testBackendNames())('thresholding on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it.each([
    [0.995, 10],
    [0.9, 10],
    [0.5, 10],
    [0.9, 1.5],
    [1, 10],
  ])('dynamic thresholding (ratio %s, max %s) matches torch.quantile per batch item', (ratio, maxValue) => {
    // Batch items with different ranges so that each gets its own s.
    const values = Float64Array.from(wave(3 * 40, 0.37, 0.1), (v, k) => Math.fround(v * (1 + Math.floor(k / 40))));
    const x = tf.tensor(Float32Array.from(values), [3, 2, 4, 5]);
    const before = tf.memory().numTensors;
    const result = tf.tidy(() => dynamicThreshold(x, ratio, maxValue));
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(errorAgainst(result, referenceThreshold(values, 3, ratio, maxValue))).toBeLessThan(1e-6);
    tf.dispose([x, result]);
  });

  it('does not depend on the layout: NHWC and NCHW give transposed results', () => {
    const values = wave(2 * 3 * 4 * 4, 0.71, 0.2, 3);
    const nchw = tf.tensor(Float32Array.from(values), [2, 3, 4, 4]);
    const [a, b] = tf.tidy(() => {
      const nhwc = tf.transpose(nchw, [0, 2, 3, 1]);
      return [tf.transpose(dynamicThreshold(nhwc, 0.8, 2.5), [0, 3, 1, 2]), dynamicThreshold(nchw, 0.8, 2.5)];
    });
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([nchw, a, b]);
  });

  it('clips to ±clipSampleRange when thresholding is off', () => {
    const x = tf.tensor([-3, -0.1, 0.2, 4]);
    const y = tf.tidy(() =>
      boundOriginalSample(x, {
        clipSample: true,
        clipSampleRange: 0.5,
        thresholding: false,
        dynamicThresholdingRatio: 0.995,
        sampleMaxValue: 1,
      }),
    );
    expect(Array.from(y.dataSync())).toEqual([-0.5, -0.1, 0.2, 0.5].map(Math.fround));
    tf.dispose([x, y]);
  });
});
