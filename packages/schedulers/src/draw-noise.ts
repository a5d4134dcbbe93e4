/** The noise of a stochastic step: given, drawn from the step's generator, or from tfjs' RNG. */
import * as tf from '@tensorflow/tfjs-core';
import { assertSameShape } from './input-checks.js';
import type { StepOptions } from './scheduler.js';

/**
 * Standard normal noise shaped like `like`: `options.varianceNoise` (returned as is), else one
 * `generator.normal(size)` draw, else `tf.randomNormal`. Call inside `tf.tidy`.
 */
export function drawNoise(like: tf.Tensor, options: StepOptions, context: string): tf.Tensor {
  if (options.varianceNoise !== undefined) {
    if (options.generator !== undefined) {
      throw new RangeError(`${context}: pass either generator or varianceNoise, not both`);
    }
    assertSameShape(options.varianceNoise, 'varianceNoise', like, 'sample', context);
    return options.varianceNoise;
  }
  if (options.generator !== undefined) {
    return tf.tensor(options.generator.normal(like.size), like.shape, 'float32');
  }
  return tf.randomNormal(like.shape, 0, 1, 'float32');
}
