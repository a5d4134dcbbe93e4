import * as tf from '@tensorflow/tfjs-core';
import { randomlySeededGenerator, type Generator } from './generator.js';

/**
 * A float32 tensor of standard normal samples drawn from `generator` in row-major order (a fresh,
 * randomly seeded generator when omitted). The numbers come from the CPU, so they are identical
 * on every backend.
 */
export function randn(shape: number[], generator?: Generator): tf.Tensor {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`randn: shape must hold non-negative integers, got [${String(shape)}]`);
  }
  const source = generator ?? randomlySeededGenerator();
  const count = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(source.normal(count), shape, 'float32');
}
