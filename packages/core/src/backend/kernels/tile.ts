import * as tf from '@tensorflow/tfjs-core';

import { composedKernel } from './kernel-tensors.js';

/**
 * `tile` as repeated concatenation along each axis with a repeat count above one. tfjs wasm's
 * own Tile kernel (which `broadcastTo`, and so core's `upsampleNearest`, run on) is about 50x
 * slower than its Concat on the same output.
 */
export function tileByConcat(x: tf.Tensor, reps: readonly number[]): tf.Tensor {
  if (reps.length !== x.rank) {
    throw new Error(`Tile: reps [${reps.join(',')}] must have one entry per axis of the rank-${x.rank} input`);
  }
  if (reps.some((count) => !Number.isInteger(count) || count < 0)) {
    throw new Error(`Tile: reps must be non-negative integers, got [${reps.join(',')}]`);
  }
  if (reps.some((count) => count === 0))
    return tf.zeros(
      x.shape.map((size, axis) => size * reps[axis]),
      x.dtype,
    );
  let result = x;
  reps.forEach((count, axis) => {
    if (count > 1)
      result = tf.concat(
        Array.from({ length: count }, () => result),
        axis,
      );
  });
  return result === x ? tf.clone(x) : result;
}

/** Kernel function for `Tile` on wasm. */
export const tileKernel = composedKernel(['x'], ({ x }, { reps }: { reps: number[] }) => tileByConcat(x, reps));
