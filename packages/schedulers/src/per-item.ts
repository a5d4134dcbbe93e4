/**
 * Timesteps given one for the whole batch or one per batch item, and the per-item gather of a
 * schedule table: the one place `addNoise`, `getVelocity` and the losses turn timesteps into
 * coefficients that broadcast over everything but the batch axis.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertTensor, assertTrainTimestep } from './input-checks.js';
import type { TimestepsInput } from './scheduler.js';

/**
 * Timesteps given one for the whole batch or one per item, as plain numbers: a number, an array
 * or a 0-D / 1-D tensor (read back once) of 1 or `batch` entries. The values are not checked.
 */
export function timestepValues(timesteps: TimestepsInput, batch: number, context: string): number[] {
  let values: number[];
  if (timesteps instanceof tf.Tensor) {
    assertTensor(timesteps, 'timesteps', context);
    if (timesteps.rank > 1) {
      throw new RangeError(`${context}: timesteps tensor must be 0-D or 1-D, got shape [${timesteps.shape.join(', ')}]`);
    }
    values = Array.from(timesteps.dataSync());
  } else {
    values = typeof timesteps === 'number' ? [timesteps] : Array.from(timesteps as ArrayLike<number>);
  }
  if (values.length !== 1 && values.length !== batch) {
    throw new RangeError(`${context}: got ${values.length} timesteps for a batch of ${batch} (give one, or one per item)`);
  }
  return values;
}

/**
 * Timesteps as an int32 tensor of length `batch` (the caller disposes it). A number, an array or
 * a 0-D / 1-D tensor of 1 or `batch` entries; every value must be an integer in
 * [0, numTimesteps) (a tensor is read back once to check).
 */
export function timestepTensor(timesteps: TimestepsInput, batch: number, numTimesteps: number, context: string): tf.Tensor1D {
  const values = timestepValues(timesteps, batch, context);
  for (const value of values) assertTrainTimestep(value, numTimesteps, context);
  return tf.tensor1d(values.length === batch ? values : new Array<number>(batch).fill(values[0]), 'int32');
}

/**
 * `values[t_i]` for every batch item, rounded to float32 and shaped [N, 1, …, 1] (rank `rank`;
 * a scalar for rank 0) so that it broadcasts over everything but the batch axis.
 */
export function gatherPerItem(values: Float64Array, t: tf.Tensor1D, rank: number): tf.Tensor {
  return tf.tidy(() => {
    const gathered = tf.gather(tf.tensor1d(Float32Array.from(values), 'float32'), t);
    return tf.reshape(gathered, rank === 0 ? [] : [t.size, ...new Array<number>(rank - 1).fill(1)]);
  });
}
