import * as tf from '@tensorflow/tfjs-core';

/**
 * Nearest-neighbour upsampling of an NHWC tensor by an integer factor, as PyTorch's
 * `F.interpolate(mode="nearest", scale_factor=factor)`. Built from reshape and broadcast, so its
 * gradient (the sum over each factor x factor block) is exact on every backend; tfjs cpu's own
 * `ResizeNearestNeighborGrad` is wrong.
 */
export function upsampleNearest(x: tf.Tensor4D, factor = 2): tf.Tensor4D {
  if (!Number.isInteger(factor) || factor < 1) {
    throw new Error(`upsampleNearest: factor must be a positive integer, got ${factor}`);
  }
  if (x.rank !== 4) throw new Error(`upsampleNearest: expected an NHWC tensor of rank 4, got rank ${x.rank}`);
  if (factor === 1) return tf.clone(x);
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    // Repeat along the width, then along the height; each step stays at rank 4, where tfjs
    // has a gradient for broadcasting.
    const wide = tf.broadcastTo(tf.reshape(x, [n * h, w, 1, c]), [n * h, w, factor, c]);
    const rows = tf.reshape(wide, [n, h, 1, w * factor * c]);
    const tall = tf.broadcastTo(rows, [n, h, factor, w * factor * c]);
    return tf.reshape(tall, [n, h * factor, w * factor, c]);
  });
}
