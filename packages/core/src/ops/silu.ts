import * as tf from '@tensorflow/tfjs-core';

/** The kernel name of SiLU's forward pass where a backend has a fused one (input `x`). */
export const SILU_KERNEL = 'DiffusionTsSilu';
/** The kernel name of SiLU's gradient where a backend has a fused one (inputs `x`, `dy`). */
export const SILU_GRAD_KERNEL = 'DiffusionTsSiluGrad';

/** The fused path: one kernel forward and one backward, through a custom gradient. */
const fusedSilu = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  save([x]);
  const value = tf.engine().runKernel<tf.Tensor>(SILU_KERNEL, { x });
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.engine().runKernel<tf.Tensor>(SILU_GRAD_KERNEL, { x: saved[0], dy }),
  };
});

/**
 * SiLU (swish), `x · sigmoid(x)`. Where the backend registers `SILU_KERNEL` and
 * `SILU_GRAD_KERNEL` (wasm with `@diffusion-ts/native`) the forward pass and the gradient are one
 * kernel each; elsewhere it is tfjs' `mul(x, sigmoid(x))` with tfjs' gradients.
 */
export function silu<T extends tf.Tensor>(x: T): T {
  const backend = tf.getBackend();
  if (x.dtype === 'float32' && tf.getKernel(SILU_KERNEL, backend) !== undefined && tf.getKernel(SILU_GRAD_KERNEL, backend) !== undefined) {
    return fusedSilu(x) as T;
  }
  return tf.mul(x, tf.sigmoid(x));
}
