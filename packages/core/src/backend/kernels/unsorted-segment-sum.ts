import * as tf from '@tensorflow/tfjs-core';

import { composedKernel } from './kernel-tensors.js';

/**
 * `UnsortedSegmentSum` (the gradient of gather): `out[s] = Σ x[i]` over every i whose segment id
 * is s; ids outside [0, numSegments) are dropped, as in TensorFlow. float32 runs as one product
 * `oneHot(ids)ᵀ · x` on the backend's matMul; int32 is summed exactly on the CPU.
 */
export function unsortedSegmentSum(x: tf.Tensor, segmentIds: tf.Tensor, numSegments: number): tf.Tensor {
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`UnsortedSegmentSum: numSegments must be a non-negative integer, got ${numSegments}`);
  }
  const idRank = segmentIds.rank;
  const idShape = segmentIds.shape;
  if (x.shape.slice(0, idRank).some((size, axis) => size !== idShape[axis])) {
    throw new Error(`UnsortedSegmentSum: segmentIds shape [${idShape.join(',')}] must prefix x's shape [${x.shape.join(',')}]`);
  }
  const count = segmentIds.size;
  const innerShape = x.shape.slice(idRank);
  const inner = innerShape.reduce((product, size) => product * size, 1);
  const outShape = [numSegments, ...innerShape];
  if (x.dtype === 'float32') {
    const ids = tf.reshape(tf.cast(segmentIds, 'int32'), [count]);
    // tfjs wasm's OneHot writes int32 data whatever dtype it is asked for: build the selection
    // matrix from a comparison instead.
    const selection = tf.cast(
      tf.equal(tf.reshape(ids, [count, 1]), tf.reshape(tf.range(0, numSegments, 1, 'int32'), [1, numSegments])),
      'float32',
    );
    const rows = tf.reshape(x, [count, inner]);
    return tf.reshape(tf.matMul(selection, rows, true, false), outShape);
  }
  const values = x.dataSync();
  const ids = segmentIds.dataSync();
  const sums = new Float64Array(numSegments * inner);
  for (let index = 0; index < count; index++) {
    const segment = Number(ids[index]);
    if (segment < 0 || segment >= numSegments) continue;
    for (let offset = 0; offset < inner; offset++) {
      sums[segment * inner + offset] += Number(values[index * inner + offset]);
    }
  }
  const typed = x.dtype === 'int32' ? Int32Array.from(sums) : Float32Array.from(sums);
  return tf.tensor(typed, outShape, x.dtype === 'int32' ? 'int32' : 'float32');
}

/** Kernel function for `UnsortedSegmentSum` on backends that lack one (wasm). */
export const unsortedSegmentSumKernel = composedKernel(['x', 'segmentIds'], ({ x, segmentIds }, { numSegments }: { numSegments: number }) =>
  unsortedSegmentSum(x, segmentIds, numSegments),
);
