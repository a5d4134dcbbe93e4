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
