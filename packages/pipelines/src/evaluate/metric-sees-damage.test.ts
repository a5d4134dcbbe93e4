/**
 * The evaluator must see what a person sees: damage that is plain to the eye (salt-and-pepper
 * noise on 5% of the pixels, a blur of radius 2 pixels) must raise the Frechet distance of real
 * digits to at least 3x its undamaged value at the same image count.
 */
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Generator, initBackend } from '@diffusion-ts/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../data/mnist.js';
import { frechetDistance, type FeatureStatistics } from './frechet-distance.js';
import { MnistClassifier } from './mnist-classifier.js';
import { classifierFeatureStatistics, classifyInBatches } from './quality.js';

const CLASSIFIER = fileURLToPath(new URL('../../../../models/mnist-classifier', import.meta.url));
const COUNT = 1000;

/** Sets `fraction` of the pixels (chosen by a seeded generator) to black or white at random. */
function saltAndPepper(images: tf.Tensor4D, fraction: number, seed: number): tf.Tensor4D {
  const generator = new Generator(seed);
  const where = generator.uniform(images.size);
  const colour = generator.uniform(images.size);
  const values = images.dataSync().slice();
  for (let i = 0; i < values.length; i++) if (where[i] < fraction) values[i] = colour[i] < 0.5 ? -1 : 1;
  return tf.tensor4d(values, images.shape);
}

/** A separable binomial blur of radius 2 (weights 1 4 6 4 1 / 16 per axis), edges clamped. */
function blur(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const taps = tf.tensor1d([1, 4, 6, 4, 1].map((w) => w / 16));
    const horizontal = tf.reshape(taps, [1, 5, 1, 1]) as tf.Tensor4D;
    const vertical = tf.reshape(taps, [5, 1, 1, 1]) as tf.Tensor4D;
    const padded = tf.mirrorPad(
      images,
      [
        [0, 0],
        [2, 2],
        [2, 2],
        [0, 0],
      ],
      'symmetric',
    );
    return tf.conv2d(tf.conv2d(padded, horizontal, 1, 'valid'), vertical, 1, 'valid');
  });
}

describe('the evaluator sees visible damage', () => {
  let classifier: MnistClassifier;
  let reference: FeatureStatistics;
  let real: tf.Tensor4D;

  beforeAll(async () => {
    await initBackend('wasm');
    classifier = await MnistClassifier.load(CLASSIFIER);
    const test = await loadMnist('t10k', { limit: 2 * COUNT });
    const references = tf.tensor4d(test.images, test.shape);
    reference = await classifierFeatureStatistics(classifier, references);
    references.dispose();
    const train = await loadMnist('train', { limit: COUNT });
    real = tf.tensor4d(train.images, train.shape);
  });

  afterAll(() => {
    real.dispose();
    classifier.dispose();
  });

  const score = async (images: tf.Tensor4D) => ({
    frechet: frechetDistance(await classifierFeatureStatistics(classifier, images), reference),
    confidence: (await classifyInBatches(classifier, images)).meanConfidence,
  });

  it('scores salt-and-pepper noise on 5% of the pixels and a radius-2 blur at >= 3x the real digits', async () => {
    const before = tf.memory().numTensors;
    const clean = await score(real);
    const noisy = saltAndPepper(real, 0.05, 7);
    const speckled = await score(noisy);
    const blurred = blur(real);
    const soft = await score(blurred);
    tf.dispose([noisy, blurred]);
    expect(tf.memory().numTensors).toBe(before);
    console.log(
      `evaluator damage test (${COUNT} MNIST train digits vs ${2 * COUNT} t10k): Frechet real ${clean.frechet.toFixed(2)} (confidence ${clean.confidence.toFixed(3)}), ` +
        `salt-and-pepper 5% ${speckled.frechet.toFixed(2)} (${(speckled.frechet / clean.frechet).toFixed(1)}x, confidence ${speckled.confidence.toFixed(3)}), ` +
        `blur radius 2 ${soft.frechet.toFixed(2)} (${(soft.frechet / clean.frechet).toFixed(1)}x, confidence ${soft.confidence.toFixed(3)})`,
    );
    expect(clean.confidence).toBeGreaterThan(0.97);
    expect(speckled.frechet).toBeGreaterThanOrEqual(3 * clean.frechet);
    expect(soft.frechet).toBeGreaterThanOrEqual(3 * clean.frechet);
  });
});
