/** Test helper: tiny trainable models on NHWC tensors. */
import * as tf from '@tensorflow/tfjs-core';

/** A per-pixel linear map C -> outChannels (matMul: gradients exist on every backend). */
export function linearModel(channels: number, outChannels: number) {
  const weights = tf.variable(
    tf.tensor2d(
      Array.from({ length: channels * outChannels }, (_, k) => 0.3 + 0.1 * Math.sin(k + 1)),
      [channels, outChannels],
    ),
  );
  const bias = tf.variable(tf.tensor1d(Array.from({ length: outChannels }, (_, k) => 0.05 * (k + 1))));
  const apply = (x: tf.Tensor): tf.Tensor =>
    tf.tidy(() => {
      const flat = tf.reshape(x, [-1, channels]);
      return tf.reshape(tf.add(tf.matMul(flat, weights), bias), [...x.shape.slice(0, -1), outChannels]);
    });
  return { apply, variables: [weights, bias], dispose: () => tf.dispose([weights, bias]) };
}

/** A 3x3 'same' convolution C -> outChannels with a variable kernel (conv weight gradients: cpu). */
export function convModel(channels: number, outChannels: number) {
  const kernel = tf.variable(
    tf.tensor4d(
      Array.from({ length: 9 * channels * outChannels }, (_, k) => 0.1 * Math.cos(0.7 * k)),
      [3, 3, channels, outChannels],
    ),
  );
  const apply = (x: tf.Tensor): tf.Tensor => tf.conv2d(x as tf.Tensor4D, kernel, 1, 'same');
  return { apply, variables: [kernel], dispose: () => kernel.dispose() };
}

/** Gradients of `loss()` for `variables`, as plain arrays (all tensors disposed). */
export function gradientValues(loss: () => tf.Scalar, variables: tf.Variable[]): { value: number; grads: Float32Array[] } {
  const { value, grads } = tf.variableGrads(loss, variables);
  const result = { value: value.dataSync()[0], grads: variables.map((v) => grads[v.name].dataSync() as Float32Array) };
  tf.dispose([value, ...Object.values(grads)]);
  return result;
}
