/**
 * The losses' own input checks (prediction and variance types, a batch axis, data in [-1, 1]) and
 * the per-item mean. The checks and gathers schedulers share are imported from
 * `@diffusion-ts/schedulers`, as are the types of the contract.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertTensor, PREDICTION_TYPES, VARIANCE_TYPES, type PredictionType, type VarianceType } from '@diffusion-ts/schedulers';

/** The variance types the bound supports: every `VarianceType` but `learned` (the raw variance). */
const BOUND_VARIANCE_TYPES: readonly string[] = VARIANCE_TYPES.filter((type) => type !== 'learned');

/** Validates a prediction type (default `epsilon`). */
export function readPredictionType(value: string | undefined, context: string): PredictionType {
  const type = value ?? 'epsilon';
  if (!(PREDICTION_TYPES as readonly string[]).includes(type)) {
    throw new RangeError(`${context}: unknown predictionType '${type}' (expected one of ${PREDICTION_TYPES.join(', ')})`);
  }
  return type as PredictionType;
}

/** Validates a variance type (default `fixed_small`). */
export function readVarianceType(value: string | undefined, context: string): VarianceType {
  const type = value ?? 'fixed_small';
  if (!BOUND_VARIANCE_TYPES.includes(type)) {
    const hint = type === 'learned' ? "; 'learned' (raw variance) is not supported, use 'learned_range'" : '';
    throw new RangeError(`${context}: unknown varianceType '${type}' (expected one of ${BOUND_VARIANCE_TYPES.join(', ')})${hint}`);
  }
  return type as VarianceType;
}

/** Throws unless `value` is a tensor of rank >= 2 (batch first). */
export function assertBatched(value: unknown, name: string, context: string): asserts value is tf.Tensor {
  assertTensor(value, name, context);
  if (value.rank < 2) {
    throw new RangeError(`${context}: ${name} must have a batch axis and at least one more (NHWC), got shape [${value.shape.join(', ')}]`);
  }
}

/** Throws unless every value of `x` is finite and in [-1, 1]. */
export function assertUnitRange(x: tf.Tensor, name: string, context: string): void {
  const [low, high, finite] = tf.tidy(() => tf.stack([tf.min(x), tf.max(x), tf.cast(tf.all(tf.isFinite(x)), 'float32')]).dataSync());
  if (finite === 0) throw new RangeError(`${context}: ${name} contains NaN or Infinity`);
  if (low < -1 || high > 1) {
    throw new RangeError(`${context}: ${name} must lie in [-1, 1] (data scaled as pixel / 127.5 - 1), got values in [${low}, ${high}]`);
  }
}

/** Mean over every axis but the first: one value per batch item. */
export function meanFlat(x: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.mean(tf.reshape(x, [x.shape[0], -1]), 1) as tf.Tensor1D);
}
