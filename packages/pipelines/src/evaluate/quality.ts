import * as tf from '@tensorflow/tfjs-core';
import type { ImageDataset } from '../data/mnist.js';
import { classSpread, type ClassSpread } from './class-spread.js';
import { featureStatistics, frechetDistance, type FeatureStatistics } from './frechet-distance.js';
import { classifierAccuracy, trainClassifier } from './classifier-training.js';
import { MnistClassifier, MNIST_CLASSIFIER_CONFIG } from './mnist-classifier.js';

/** Penultimate-feature statistics of NHWC images (a tensor or an in-memory dataset), in batches. */
export async function classifierFeatureStatistics(
  classifier: MnistClassifier,
  images: tf.Tensor4D,
  batchSize = 500,
): Promise<FeatureStatistics> {
  const dimension = classifier.featureSize;
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

/** Sample quality against a reference set: Frechet distance of classifier features, class spread and confidence. */
export interface SampleQuality {
  frechetDistance: number;
  spread: ClassSpread;
  /** Mean over images of the classifier's largest softmax probability (real digits: about 0.99). */
  meanConfidence: number;
  /** With the classes asked for (class-conditional samples): the share classified as asked. */
  classAccuracy?: number;
  /** The same per asked class (NaN for a class never asked). */
  perClassAccuracy?: number[];
}

/** Predicted classes and mean max-softmax confidence of NHWC images, in batches. */
export async function classifyInBatches(
  classifier: MnistClassifier,
  images: tf.Tensor4D,
  batchSize = 500,
): Promise<{ classes: Int32Array; meanConfidence: number }> {
  const count = images.shape[0];
  const classes = new Int32Array(count);
  let confidenceSum = 0;
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const batch = tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1]);
    const result = await classifier.classify(batch);
    batch.dispose();
    classes.set(result.classes, start);
    for (const value of result.confidence) confidenceSum += value;
  }
  return { classes, meanConfidence: confidenceSum / Math.max(count, 1) };
}

/** Scores generated NHWC images in [-1, 1] against reference feature statistics. */
export async function evaluateSamples(
  classifier: MnistClassifier,
  generated: tf.Tensor4D,
  reference: FeatureStatistics,
  asked?: ArrayLike<number>,
): Promise<SampleQuality> {
  const statistics = await classifierFeatureStatistics(classifier, generated);
  const { classes, meanConfidence } = await classifyInBatches(classifier, generated);
  const quality: SampleQuality = {
    frechetDistance: frechetDistance(statistics, reference),
    spread: classSpread(classes, classifier.config.numClasses),
    meanConfidence,
  };
  if (asked !== undefined) Object.assign(quality, askedClassAccuracy(classes, asked, classifier.config.numClasses));
  return quality;
}

/** The share of images classified as the class asked for, overall and per class. */
export function askedClassAccuracy(
  classes: ArrayLike<number>,
  asked: ArrayLike<number>,
  numClasses: number,
): { classAccuracy: number; perClassAccuracy: number[] } {
  if (asked.length !== classes.length)
    throw new RangeError(`askedClassAccuracy: ${asked.length} classes asked for ${classes.length} images`);
  const hits = new Array<number>(numClasses).fill(0);
  const totals = new Array<number>(numClasses).fill(0);
  let correct = 0;
  for (let i = 0; i < classes.length; i++) {
    const label = asked[i];
    if (!(label >= 0 && label < numClasses)) throw new RangeError(`askedClassAccuracy: class ${label} is not in [0, ${numClasses})`);
    totals[label]++;
    if (classes[i] === label) {
      hits[label]++;
      correct++;
    }
  }
  return { classAccuracy: correct / Math.max(classes.length, 1), perClassAccuracy: hits.map((hit, c) => hit / totals[c]) };
}

/** Options of `trainMnistClassifier`. */
export interface TrainMnistClassifierOptions {
  epochs?: number;
  seed?: number;
  /** Largest random shift in pixels per batch (default 2). */
  maxShift?: number;
  /** Adam's learning rate (default 1e-3). */
  learningRate?: number;
  /** Continue training this classifier (e.g. at a lower learning rate) instead of a new one. */
  initial?: MnistClassifier;
  onEpoch?: (epoch: number, loss: number) => void;
}

/** Trains the evaluation classifier on MNIST train and measures its accuracy on t10k. */
export async function trainMnistClassifier(
  train: ImageDataset,
  test: ImageDataset,
  options: TrainMnistClassifierOptions = {},
): Promise<{ classifier: MnistClassifier; testAccuracy: number; finalLoss: number }> {
  if (!train.labels || !test.labels) throw new Error('trainMnistClassifier: both datasets need labels');
  const classifier =
    options.initial ?? MnistClassifier.create(options.seed ?? 0, { ...MNIST_CLASSIFIER_CONFIG, imageSize: train.shape[1] });
  const trainImages = tf.tensor4d(train.images, train.shape);
  const testImages = tf.tensor4d(test.images, test.shape);
  try {
    const finalLoss = await trainClassifier(classifier, trainImages, train.labels, {
      epochs: options.epochs ?? 4,
      batchSize: 128,
      learningRate: options.learningRate ?? 1e-3,
      seed: options.seed ?? 0,
      maxShift: options.maxShift ?? 2,
      onEpoch: options.onEpoch,
    });
    const testAccuracy = await classifierAccuracy(classifier, testImages, test.labels);
    return { classifier, testAccuracy, finalLoss };
  } finally {
    tf.dispose([trainImages, testImages]);
  }
}
