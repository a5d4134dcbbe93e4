import * as tf from '@tensorflow/tfjs-core';
import { AdamW, Generator } from '@diffusion-ts/core';
import type { MnistClassifier } from './mnist-classifier.js';

/** Options for `trainClassifier`. */
export interface TrainClassifierOptions {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  /** Largest random shift in pixels applied to each batch (default 0: none). */
  maxShift?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

/** Shifts a batch by (dy, dx) pixels, filling with the background value -1. */
function shift(images: tf.Tensor4D, dy: number, dx: number): tf.Tensor4D {
  if (dy === 0 && dx === 0) return images;
  const [, height, width] = images.shape;
  const pad = Math.max(Math.abs(dy), Math.abs(dx));
  const padded = tf.pad(
    images,
    [
      [0, 0],
      [pad, pad],
      [pad, pad],
      [0, 0],
    ],
    -1,
  );
  return tf.slice(padded, [0, pad - dy, pad - dx, 0], [-1, height, width, -1]);
}

/**
 * Trains the classifier with Adam on softmax cross-entropy. `images` is NHWC [N,32,32,1] in
 * [-1, 1], `labels` the digit per image. Returns the mean loss of the last epoch.
 */
export async function trainClassifier(
  classifier: MnistClassifier,
  images: tf.Tensor4D,
  labels: Int32Array,
  options: TrainClassifierOptions = {},
): Promise<number> {
  const { epochs = 3, batchSize = 128, learningRate = 1e-3, seed = 0, maxShift = 0, onEpoch } = options;
  const count = images.shape[0];
  if (labels.length !== count) throw new RangeError(`trainClassifier: ${count} images but ${labels.length} labels`);
  const variables = classifier.trainableVariables();
  const optimizer = new AdamW(variables, { learningRate, weightDecay: 0 });
  const generator = new Generator(seed);
  let lastLoss = Number.NaN;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = generator.uniform(count);
    const indices = Array.from({ length: count }, (_, i) => i).sort((a, b) => order[a] - order[b]);
    let total = 0;
    let batches = 0;
    for (let start = 0; start + batchSize <= count; start += batchSize) {
      const [dy, dx] = Array.from(generator.uniform(2), (u) => Math.min(maxShift, Math.floor(u * (2 * maxShift + 1)) - maxShift));
      const [x, oneHot] = tf.tidy(() => {
        const batchIndices = tf.tensor1d(indices.slice(start, start + batchSize), 'int32');
        const batchLabels = tf.tensor1d(
          Array.from(indices.slice(start, start + batchSize), (i) => labels[i]),
          'int32',
        );
        return [shift(tf.gather(images, batchIndices), dy, dx), tf.oneHot(batchLabels, classifier.config.numClasses)];
      });
      const { value: loss, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(oneHot, classifier.logits(x)) as tf.Scalar,
        variables,
      );
      optimizer.applyGradients(variables.map((variable) => grads[variable.name]));
      tf.dispose([x, oneHot, ...Object.values(grads)]);
      total += (await loss.data())[0];
      batches += 1;
      loss.dispose();
    }
    lastLoss = total / Math.max(batches, 1);
    onEpoch?.(epoch, lastLoss);
  }
  optimizer.dispose();
  return lastLoss;
}

/** Fraction of `images` whose predicted class equals the label. */
export async function classifierAccuracy(
  classifier: MnistClassifier,
  images: tf.Tensor4D,
  labels: Int32Array,
  batchSize = 1000,
): Promise<number> {
  let correct = 0;
  for (let start = 0; start < images.shape[0]; start += batchSize) {
    const size = Math.min(batchSize, images.shape[0] - start);
    const batch = tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1]);
    const predicted = await classifier.predict(batch);
    batch.dispose();
    for (let i = 0; i < size; i++) if (predicted[i] === labels[start + i]) correct += 1;
  }
  return correct / images.shape[0];
}
