/**
 * The pre-flight check of training: the active backend must compute a convolution's weight
 * gradient (tfjs' wasm backend lacks it unless core's training kernels are registered).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertCanTrain, currentBackend, type BackendName } from '@diffusion-ts/core';

/** Throws a clear error, before any work, when the active backend cannot train a UNet. */
export function assertBackendCanTrain(): void {
  let name: string;
  try {
    name = currentBackend();
    assertCanTrain(name as BackendName);
  } catch (error) {
    if (/not possible/.test((error as Error).message)) throw error;
    name = tf.getBackend();
  }
  try {
    tf.tidy(() => {
      const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
      const filter = tf.ones([3, 3, 2, 2]) as tf.Tensor4D;
      const gradient = tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(x, w as tf.Tensor4D, 1, 'same')))(filter);
      gradient.dataSync();
    });
  } catch (error) {
    throw new Error(
      `Training is not possible on the ${String(name)} backend: it cannot compute convolution weight gradients (${(error as Error).message}). ` +
        'Use initBackend("wasm") (which registers diffusion-ts training kernels) or the cpu backend.',
      { cause: error },
    );
  }
}
