import * as tf from '@tensorflow/tfjs-core';
import type { ImageDataset } from '../data/mnist.js';
import { classSpread, type ClassSpread } from './class-spread.js';
import { featureStatistics, frechetDistance, type FeatureStatistics } from './frechet-distance.js';
import { classifierAccuracy, MnistClassifier, trainClassifier } from './mnist-classifier.js';

/** Penultimate-feature statistics of NHWC images (a tensor or an in-memory dataset), in batches. */
export async function classifierFeatureStatistics(
  classifier: MnistClassifier,
  images: tf.Tensor4D,
  batchSize = 500,
): Promise<FeatureStatistics> {
  const dimension = classifier.config.hiddenSizes[classifier.config.hiddenSizes.length - 1];
  const count = images.shape[0];
  const features = new Float64Array(count * dimension);
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const batch = tf.tidy(() => classifier.features(tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1])));
    features.set(await batch.data(), start * dimension);
    batch.dispose();
  }
  return featureStatistics(features, dimension);
}

/** Sample quality against a reference set: Frechet distance of classifier features and class spread. */
export interface SampleQuality {
  frechetDistance: number;
  spread: ClassSpread;
}

/** Scores generated NHWC images in [-1, 1] against reference feature statistics. */
export async function evaluateSamples(
  classifier: MnistClassifier,
  generated: tf.Tensor4D,
  reference: FeatureStatistics,
): Promise<SampleQuality> {
  const statistics = await classifierFeatureStatistics(classifier, generated);
  const spread = classSpread(await classifier.predict(generated), classifier.config.numClasses);
  return { frechetDistance: frechetDistance(statistics, reference), spread };
}

/** Options of `trainMnistClassifier`. */
export interface TrainMnistClassifierOptions {
  epochs?: number;
  seed?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

/** Trains the evaluation classifier on MNIST train and measures its accuracy on t10k. */
export async function trainMnistClassifier(
  train: ImageDataset,
  test: ImageDataset,
  options: TrainMnistClassifierOptions = {},
): Promise<{ classifier: MnistClassifier; testAccuracy: number; finalLoss: number }> {
  if (!train.labels || !test.labels) throw new Error('trainMnistClassifier: both datasets need labels');
  const classifier = MnistClassifier.create(options.seed ?? 0, {
    inputSize: train.shape[1] * train.shape[2] * train.shape[3],
    hiddenSizes: [256, 128],
    numClasses: 10,
  });
  const trainImages = tf.tensor4d(train.images, train.shape);
  const testImages = tf.tensor4d(test.images, test.shape);
  try {
    const finalLoss = await trainClassifier(classifier, trainImages, train.labels, {
      epochs: options.epochs ?? 5,
      batchSize: 128,
      learningRate: 1e-3,
      seed: options.seed ?? 0,
      onEpoch: options.onEpoch,
    });
    const testAccuracy = await classifierAccuracy(classifier, testImages, test.labels);
    return { classifier, testAccuracy, finalLoss };
  } finally {
    tf.dispose([trainImages, testImages]);
  }
}
