/** Test helper: small deterministic inputs for the checks beyond the fixtures. */
import * as tf from '@tensorflow/tfjs-core';
import { maxMixedError } from './fixtures.js';

/** `count` float32 values `scale * sin(a k + b)`. */
export function wave(count: number, a: number, b: number, scale = 1): Float64Array {
  return Float64Array.from({ length: count }, (_, k) => Math.fround(scale * Math.sin(a * k + b)));
}

/** A float64 model: `x * t / (t + 1) + 0.1 cos(x + t / 100)` (smooth, not a multiple of x). */
export function referenceModel(x: Float64Array, t: number): Float64Array {
  return x.map((v) => (v * t) / (t + 1) + 0.1 * Math.cos(v + t / 100));
}

/** The same model on tensors. */
export function tensorModel(x: tf.Tensor, t: number): tf.Tensor {
  return tf.tidy(() => tf.add(tf.div(tf.mul(x, t), t + 1), tf.mul(tf.cos(tf.add(x, t / 100)), 0.1)));
}

/** Asserts-free comparison of a tensor with float64 values (mixed abs/rel error). */
export function errorAgainst(actual: tf.Tensor, expected: Float64Array): number {
  return maxMixedError(actual.dataSync(), Float64Array.from(expected, Math.fround));
}
