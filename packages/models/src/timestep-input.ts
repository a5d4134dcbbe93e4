import * as tf from '@tensorflow/tfjs-core';

/**
 * Timesteps for a batch of `batch` samples as float32 [B]: a plain number broadcasts, a scalar or
 * length-1 tensor broadcasts, a length-B tensor is used as is.
 */
export function batchTimesteps(timestep: number | tf.Tensor, batch: number, context: string): tf.Tensor1D {
  if (typeof timestep === 'number') {
    if (!Number.isFinite(timestep)) throw new Error(`${context}: timestep must be a finite number, got ${timestep}`);
    return tf.fill([batch], timestep, 'float32');
  }
  if (timestep.rank > 1) throw new Error(`${context}: timestep must be a number or a 1-D tensor, got rank ${timestep.rank}`);
  if (timestep.size !== 1 && timestep.size !== batch) {
    throw new Error(`${context}: timestep has ${timestep.size} entries but the batch has ${batch} samples`);
  }
  return tf.tidy(() => {
    const values = tf.cast(tf.reshape(timestep, [-1]), 'float32');
    return (timestep.size === batch ? values : tf.broadcastTo(values, [batch])) as tf.Tensor1D;
  });
}
