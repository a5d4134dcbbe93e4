import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@diffusion-ts/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { classSpread, formatClassShares } from './class-spread.js';
import { classifierAccuracy, trainClassifier } from './classifier-training.js';
import { MnistClassifier } from './mnist-classifier.js';

/** Synthetic "digits": class k is a centred square of side 2k + 4 (pooled features see its area). */
function syntheticDigits(count: number, classes: number): { images: tf.Tensor4D; labels: Int32Array } {
  const labels = Int32Array.from({ length: count }, (_, i) => i % classes);
  const pixels = new Float32Array(count * 32 * 32).fill(-1);
  labels.forEach((label, i) => {
    const side = 2 * label + 4;
    const start = 16 - side / 2;
    for (let row = start; row < start + side; row++) {
      for (let col = start; col < start + side; col++) pixels[i * 1024 + row * 32 + col] = 0.8 + 0.2 * Math.sin(i + col);
    }
  });
  return { images: tf.tensor4d(pixels, [count, 32, 32, 1]), labels };
}

describe('MnistClassifier', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('learns separable classes, exposes penultimate features and round-trips through save/load', async () => {
    const { images, labels } = syntheticDigits(200, 10);
    const classifier = MnistClassifier.create(1, { imageSize: 32, channels: [8, 16], strides: [2, 2], numClasses: 10 });
    const before = tf.memory().numTensors;
    await trainClassifier(classifier, images, labels, { epochs: 80, batchSize: 50, learningRate: 3e-3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(await classifierAccuracy(classifier, images, labels)).toBeGreaterThan(0.95);
    const features = classifier.features(images);
    expect(features.shape).toEqual([200, 16]);
    const spread = classSpread(await classifier.predict(images));
    expect(spread.entropyBits).toBeGreaterThan(3.2);

    const folder = await mkdtemp(join(tmpdir(), 'classifier-'));
    try {
      await classifier.save(folder, { test_accuracy: 1 });
      const loaded = await MnistClassifier.load(folder);
      const again = loaded.features(images);
      expect(Array.from(await again.data())).toEqual(Array.from(await features.data()));
      tf.dispose(again);
      loaded.dispose();
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
    tf.dispose([features, images]);
    classifier.dispose();
  });

  it('rejects images of the wrong size and out-of-range classes', () => {
    const classifier = MnistClassifier.create(0, { imageSize: 32, channels: [4, 8], strides: [2, 1], numClasses: 10 });
    const wrong = tf.zeros([1, 28, 28, 1]) as tf.Tensor4D;
    expect(() => classifier.features(wrong)).toThrow(/expected 32x32x1/);
    expect(() => classSpread([0, 10])).toThrow(/outside 0..9/);
    // Shares: 0 appears 3 times, 1 once, 2-9 never, in 4 samples.
    expect(classSpread([0, 0, 1, 0])).toMatchObject({ minShare: 0, maxShare: 0.75, minOverMax: 0 });
    expect(classSpread([0, 1, 1, 0], 2)).toMatchObject({ minShare: 0.5, maxShare: 0.5, minOverMax: 1, entropyBits: 1 });
    expect(formatClassShares(classSpread([0, 0, 1, 0]))).toBe('0.0% / 75.0%');
    expect(formatClassShares({ minShare: 0.086, maxShare: 0.123 }, '-')).toBe('8.6-12.3%');
    wrong.dispose();
    classifier.dispose();
  });
});
