/**
 * Clipping and dynamic thresholding of the predicted x0 (Imagen, Saharia et al. 2022, §2.3).
 * Both work per element or per batch item, so the tensor layout (NHWC or NCHW) does not matter.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The options that control how x0 is bounded. */
export interface ThresholdOptions {
  clipSample: boolean;
  clipSampleRange: number;
  thresholding: boolean;
  dynamicThresholdingRatio: number;
  sampleMaxValue: number;
}

/**
 * Dynamic thresholding: for each batch item, s = quantile(|x0|, ratio) over all its elements
 * (torch.quantile, linear interpolation), clamped to [1, sampleMaxValue]; x0 is clipped to ±s
 * and divided by s. Runs on the device (top-k instead of a full sort); call inside `tf.tidy`.
 */
export function dynamicThreshold(sample: tf.Tensor, ratio: number, sampleMaxValue: number): tf.Tensor {
  const batch = sample.shape[0] ?? 1;
  const count = sample.size / batch;
  // torch evaluates the rank in float32: q * (n - 1).
  const rank = Math.fround(Math.fround(ratio) * (count - 1));
  const below = Math.floor(rank);
  const above = Math.ceil(rank);
  const weight = Math.fround(rank - below);
  const flat = tf.reshape(tf.abs(sample), [batch, count]);
  // Descending top-(count - below) values; the last column is the ascending value at `below`.
  const { values } = tf.topk(flat, count - below, true);
  const lower = tf.slice(values, [0, count - below - 1], [batch, 1]);
  const upper = above === below ? lower : tf.slice(values, [0, count - above - 1], [batch, 1]);
  // torch.lerp: start + w (end - start) for w < 0.5, else end - (end - start)(1 - w).
  const span = tf.sub(upper, lower);
  const quantile = weight < 0.5 ? tf.add(lower, tf.mul(span, weight)) : tf.sub(upper, tf.mul(span, 1 - weight));
  // torch.clamp(min=1, max=sampleMaxValue): the max wins when sampleMaxValue < 1.
  const limit = tf.minimum(tf.maximum(quantile, 1), sampleMaxValue);
  const limitShape = [batch, ...Array<number>(Math.max(sample.rank - 1, 0)).fill(1)];
  const column = tf.reshape(limit, limitShape);
  const clipped = tf.minimum(tf.maximum(sample, tf.neg(column)), column);
  return tf.div(clipped, column);
}

/** Applies thresholding if enabled, else clipping to ±clipSampleRange if enabled; call inside `tf.tidy`. */
export function boundOriginalSample(sample: tf.Tensor, options: ThresholdOptions): tf.Tensor {
  if (options.thresholding) {
    return dynamicThreshold(sample, options.dynamicThresholdingRatio, options.sampleMaxValue);
  }
  if (options.clipSample) {
    return tf.clipByValue(sample, -options.clipSampleRange, options.clipSampleRange);
  }
  return sample;
}
