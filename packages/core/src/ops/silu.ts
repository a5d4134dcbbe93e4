// The fused kernels' contract is @diffusion-ts/native's: its types are erased here and its names
// are built into core's bundle, so core runs without that optional package.
import { SILU_GRAD_KERNEL, SILU_KERNEL, type SiluGradInputs, type SiluInputs } from '@diffusion-ts/native/fused-kernels';
import * as tf from '@tensorflow/tfjs-core';

/** The fused path: one kernel forward and one backward, through a custom gradient. */
const fusedSilu = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  save([x]);
  const inputs: SiluInputs<tf.Tensor> = { x };
  const value = tf.engine().runKernel<tf.Tensor>(SILU_KERNEL, inputs as unknown as tf.NamedTensorMap);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const gradientInputs: SiluGradInputs<tf.Tensor> = { x: saved[0], dy };
      return tf.engine().runKernel<tf.Tensor>(SILU_GRAD_KERNEL, gradientInputs as unknown as tf.NamedTensorMap);
    },
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
