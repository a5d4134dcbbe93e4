/** Input checks and per-batch-item gathers shared by the loss functions. */
import * as tf from '@tensorflow/tfjs-core';

/** Timesteps: one for the whole batch, or one per batch item (integers in [0, T)). */
export type TimestepsInput = number | readonly number[] | Int32Array | tf.Tensor1D;

/** What the model predicts. */
export type PredictionType = 'epsilon' | 'sample' | 'v_prediction';

/** How the reverse-process variance is chosen (Diffusers' names; `_log` variants mean the same here). */
export type VarianceType = 'fixed_small' | 'fixed_small_log' | 'fixed_large' | 'fixed_large_log' | 'learned_range';

const PREDICTION_TYPES: readonly string[] = ['epsilon', 'sample', 'v_prediction'];
const VARIANCE_TYPES: readonly string[] = ['fixed_small', 'fixed_small_log', 'fixed_large', 'fixed_large_log', 'learned_range'];

/** Validates a prediction type (default `epsilon`). */
export function readPredictionType(value: string | undefined, context: string): PredictionType {
  const type = value ?? 'epsilon';
  if (!PREDICTION_TYPES.includes(type)) {
    throw new RangeError(`${context}: unknown predictionType '${type}' (expected one of ${PREDICTION_TYPES.join(', ')})`);
  }
  return type as PredictionType;
}

/** Validates a variance type (default `fixed_small`). */
export function readVarianceType(value: string | undefined, context: string): VarianceType {
  const type = value ?? 'fixed_small';
  if (!VARIANCE_TYPES.includes(type)) {
    const hint = type === 'learned' ? "; 'learned' (raw variance) is not supported, use 'learned_range'" : '';
    throw new RangeError(`${context}: unknown varianceType '${type}' (expected one of ${VARIANCE_TYPES.join(', ')})${hint}`);
  }
  return type as VarianceType;
}

/** Throws unless `value` is a tensor. */
export function assertTensor(value: unknown, name: string, context: string): asserts value is tf.Tensor {
  if (!(value instanceof tf.Tensor)) throw new TypeError(`${context}: ${name} must be a tf.Tensor, got ${typeof value}`);
  if (value.isDisposed) throw new TypeError(`${context}: ${name} has been disposed`);
}

/** Throws unless `value` is a tensor of rank >= 2 (batch first). */
export function assertBatched(value: unknown, name: string, context: string): asserts value is tf.Tensor {
  assertTensor(value, name, context);
  if (value.rank < 2) {
    throw new RangeError(`${context}: ${name} must have a batch axis and at least one more (NHWC), got shape [${value.shape.join(', ')}]`);
  }
}

/** Throws unless `a` and `b` have the same shape. */
export function assertSameShape(a: tf.Tensor, aName: string, b: tf.Tensor, bName: string, context: string): void {
  if (a.rank !== b.rank || a.shape.some((size, i) => size !== b.shape[i])) {
    throw new RangeError(`${context}: ${aName} shape [${a.shape.join(', ')}] does not match ${bName} shape [${b.shape.join(', ')}]`);
  }
}

/** Throws if any tensor holds NaN or ±Infinity (one read-back), naming the tensor. */
export function assertFinite(tensors: Readonly<Record<string, tf.Tensor | undefined>>, context: string): void {
  const names = Object.keys(tensors).filter((name) => tensors[name] !== undefined);
  if (names.length === 0) return;
  const flags = tf.tidy(() => tf.stack(names.map((name) => tf.all(tf.isFinite(tensors[name]!)))).dataSync());
  names.forEach((name, i) => {
    if (flags[i] === 0) throw new RangeError(`${context}: ${name} contains NaN or Infinity`);
  });
}

/** Throws unless every value of `x` is finite and in [-1, 1]. */
export function assertUnitRange(x: tf.Tensor, name: string, context: string): void {
  const [low, high, finite] = tf.tidy(() => tf.stack([tf.min(x), tf.max(x), tf.cast(tf.all(tf.isFinite(x)), 'float32')]).dataSync());
  if (finite === 0) throw new RangeError(`${context}: ${name} contains NaN or Infinity`);
  if (low < -1 || high > 1) {
    throw new RangeError(`${context}: ${name} must lie in [-1, 1] (data scaled as pixel / 127.5 - 1), got values in [${low}, ${high}]`);
  }
}

/**
 * Timesteps as an int32 tensor of length `batch` (the caller disposes it). Numbers and arrays are
 * checked against [0, numTimesteps); a tensor of length 1 or `batch` is taken as is.
 */
export function timestepTensor(timesteps: TimestepsInput, batch: number, numTimesteps: number, context: string): tf.Tensor1D {
  if (timesteps instanceof tf.Tensor) {
    if (timesteps.rank !== 1 || (timesteps.size !== batch && timesteps.size !== 1)) {
      throw new RangeError(`${context}: timesteps tensor must be 1-D with 1 or ${batch} entries, got shape [${timesteps.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const ints = timesteps.dtype === 'int32' ? tf.clone(timesteps) : tf.cast(timesteps, 'int32');
      return timesteps.size === batch ? ints : tf.tile(ints, [batch]);
    });
  }
  const values = typeof timesteps === 'number' ? [timesteps] : Array.from(timesteps as ArrayLike<number>);
  if (values.length !== 1 && values.length !== batch) {
    throw new RangeError(`${context}: got ${values.length} timesteps for a batch of ${batch} (give one, or one per item)`);
  }
  for (const value of values) {
    if (!Number.isInteger(value) || value < 0 || value >= numTimesteps) {
      throw new RangeError(`${context}: timestep ${String(value)} is not an integer in [0, ${numTimesteps})`);
    }
  }
  const full = values.length === batch ? values : new Array<number>(batch).fill(values[0]);
  return tf.tensor1d(full, 'int32');
}

/**
 * `values[t_i]` for every batch item, rounded to float32 and shaped [N, 1, …, 1] (rank `rank`)
 * so that it broadcasts over everything but the batch axis.
 */
export function gatherPerItem(values: Float64Array, t: tf.Tensor1D, rank: number): tf.Tensor {
  return tf.tidy(() => {
    const gathered = tf.gather(tf.tensor1d(Float32Array.from(values), 'float32'), t);
    return tf.reshape(gathered, [t.size, ...new Array<number>(rank - 1).fill(1)]);
  });
}

/** Mean over every axis but the first: one value per batch item. */
export function meanFlat(x: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.mean(tf.reshape(x, [x.shape[0], -1]), 1) as tf.Tensor1D);
}
