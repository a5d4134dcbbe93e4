import * as tf from '@tensorflow/tfjs-core';

/** Deterministic, well-spread test values: sin of a scaled index with a per-tensor phase. */
export function sinTensor(shape: number[], phase: number, scale = 0.731): tf.Tensor {
  const size = shape.reduce((product, length) => product * length, 1);
  const values = new Float32Array(size);
  for (let index = 0; index < size; index++) values[index] = Math.sin(index * scale + phase);
  return tf.tensor(values, shape, 'float32');
}

/** Runs `compute` on tfjs' pure-JS cpu backend and returns its values, then restores the backend. */
export async function onCpu(compute: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  const previous = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    const results = compute();
    const list = Array.isArray(results) ? results : [results];
    const values = await Promise.all(list.map(async (tensor) => (await tensor.data()) as Float32Array));
    tf.dispose(list);
    return values;
  } finally {
    await tf.setBackend(previous);
  }
}

/** Largest absolute difference, relative to the reference's largest magnitude. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) {
    throw new Error(`relativeError: lengths differ (${actual.length} vs ${expected.length})`);
  }
  let scale = 0;
  let worst = 0;
  for (let index = 0; index < expected.length; index++) {
    scale = Math.max(scale, Math.abs(expected[index]));
    worst = Math.max(worst, Math.abs(actual[index] - expected[index]));
  }
  return worst / (scale || 1);
}
