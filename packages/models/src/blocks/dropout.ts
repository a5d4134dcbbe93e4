import * as tf from '@tensorflow/tfjs-core';

/** Inverted dropout, active only in training mode and for a positive rate. */
export function dropout<T extends tf.Tensor>(x: T, rate: number, training: boolean): T {
  if (!training || rate <= 0) return x;
  return tf.dropout(x, rate) as T;
}
