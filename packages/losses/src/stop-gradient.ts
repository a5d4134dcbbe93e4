/** Identity in the forward pass, zero gradient in the backward pass (tfjs-core has no stopGradient). */
import * as tf from '@tensorflow/tfjs-core';

const frozen = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.clone(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/** `x` with its gradient cut: the value passes through, no gradient flows back. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return frozen(x) as T;
}
