import { silu } from '@diffusion-ts/core';
import * as tf from '@tensorflow/tfjs-core';

/** Activation names accepted in configs (Diffusers' `act_fn`). */
export const ACTIVATION_NAMES = ['silu', 'swish', 'mish', 'gelu', 'relu'] as const;

/** An activation name from a Diffusers config. */
export type ActivationName = (typeof ACTIVATION_NAMES)[number];

/** SiLU (swish): `x * sigmoid(x)` (core's, fused where the backend has the kernels). */
export { silu };

/** Exact GELU, `0.5 x (1 + erf(x / sqrt 2))`, as PyTorch's default `F.gelu`. */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
}

/** QuickGELU, `x * sigmoid(1.702 x)`: the activation of OpenAI's CLIP (transformers' `quick_gelu`). */
export function quickGelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))));
}

/** GELU with the tanh approximation, `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` (`gelu_new`, `gelu_pytorch_tanh`). */
export function geluTanh<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  });
}

const ACTIVATIONS: Record<ActivationName, <T extends tf.Tensor>(x: T) => T> = {
  silu,
  swish: silu,
  mish: <T extends tf.Tensor>(x: T): T => tf.mul(x, tf.tanh(tf.softplus(x))),
  gelu,
  relu: <T extends tf.Tensor>(x: T): T => tf.relu(x),
};

/** The activation function for a config name. */
export function activation(name: ActivationName): <T extends tf.Tensor>(x: T) => T {
  const fn = ACTIVATIONS[name];
  if (fn === undefined) throw new Error(`Unknown activation '${name}' (expected one of ${ACTIVATION_NAMES.join(', ')})`);
  return fn;
}
