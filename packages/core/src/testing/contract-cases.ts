/**
 * The backend contract cases: the ops a UNet needs, and their gradients, on inputs from sin
 * formulas (identical numbers on every backend). Each case returns its forward result and the
 * gradients with respect to its inputs; a backend passes when it gives the cpu backend's numbers
 * within 1e-4 relative. Shared by core's contract test and the device check
 * (`scripts/device-check`). Test support: published under `@diffusion-ts/core/testing`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { upsampleNearest } from '../ops/upsample-nearest.js';

/** A tensor of `sin(0.37 i + phase)` values. */
export function input(shape: number[], phase: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, (_, i) => Math.sin(0.37 * i + phase)),
    shape,
  );
}

function groupNorm(x: tf.Tensor4D, groups: number, eps = 1e-5): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const grouped = tf.reshape(x, [n, h, w, groups, c / groups]);
  const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
  return tf.reshape(tf.div(tf.sub(grouped, mean), tf.sqrt(tf.add(variance, eps))), [n, h, w, c]);
}

const silu = (x: tf.Tensor) => tf.mul(x, tf.sigmoid(x));

/** Cases whose gradients need the training kernels (conv weight/input gradients). */
export const NEEDS_TRAINING_KERNELS = (name: string) => name.startsWith('conv2d');

/** Each case returns its outputs: the forward result and the gradients with respect to its inputs. */
export const CONTRACT_CASES: Record<string, () => tf.Tensor[]> = {
  'conv2d 3x3 stride 1 same': () => {
    const x = input([2, 8, 8, 4], 0.1);
    const w = input([3, 3, 4, 6], 0.7);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same');
    return [f(x, w), ...tf.grads((a, b) => tf.sum(tf.mul(f(a, b), f(a, b))))([x, w])];
  },
  'conv2d 3x3 stride 2 pad 1': () => {
    const x = input([2, 8, 8, 4], 0.2);
    const w = input([3, 3, 4, 4], 0.9);
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ];
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, pad);
    return [f(x, w), ...tf.grads((a, b) => tf.sum(tf.square(f(a, b))))([x, w])];
  },
  'conv2d 3x3 stride 2 same': () => {
    const x = input([2, 8, 8, 4], 0.25);
    const w = input([3, 3, 4, 4], 1.05);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same');
    return [f(x, w), ...tf.grads((a, b) => tf.sum(tf.square(f(a, b))))([x, w])];
  },
  'conv2d 1x1': () => {
    const x = input([2, 4, 4, 8], 0.3);
    const w = input([1, 1, 8, 4], 1.1);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid');
    return [f(x, w), ...tf.grads((a, b) => tf.sum(tf.square(f(a, b))))([x, w])];
  },
  matMul: () => {
    const a = input([5, 7], 0.4);
    const b = input([7, 3], 1.3);
    const f = (p: tf.Tensor, q: tf.Tensor) => tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D);
    return [f(a, b), ...tf.grads((p, q) => tf.sum(tf.square(f(p, q))))([a, b])];
  },
  'batchMatMul (attention scores)': () => {
    const q = input([2, 6, 8], 0.5);
    const k = input([2, 6, 8], 1.5);
    const f = (p: tf.Tensor, r: tf.Tensor) => tf.matMul(p as tf.Tensor3D, r as tf.Tensor3D, false, true);
    return [f(q, k), ...tf.grads((p, r) => tf.sum(tf.square(f(p, r))))([q, k])];
  },
  'group norm': () => {
    const x = input([2, 4, 4, 8], 0.6);
    const weights = input([2, 4, 4, 8], 2.1);
    const f = (a: tf.Tensor) => groupNorm(a as tf.Tensor4D, 4);
    return [f(x), tf.grad((a) => tf.sum(tf.mul(f(a), weights)))(x)];
  },
  softmax: () => {
    const x = input([3, 10], 0.8);
    const weights = input([3, 10], 1.7);
    return [tf.softmax(x), tf.grad((a) => tf.sum(tf.mul(tf.softmax(a), weights)))(x)];
  },
  SiLU: () => {
    const x = tf.mul(input([64], 0.9), 4);
    return [silu(x), tf.grad((a) => tf.sum(tf.square(silu(a))))(x)];
  },
  'nearest upsample (core)': () => {
    const x = input([2, 4, 4, 3], 1.2);
    const weights = input([2, 8, 8, 3], 0.2);
    const f = (a: tf.Tensor) => upsampleNearest(a as tf.Tensor4D);
    return [f(x), tf.grad((a) => tf.sum(tf.mul(f(a), weights)))(x)];
  },
};

/** Runs one case on the current backend and reads its outputs back. */
export async function evaluateContractCase(name: string): Promise<Float32Array[]> {
  const outputs = tf.tidy(CONTRACT_CASES[name]);
  const values = await Promise.all(outputs.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(outputs);
  return values;
}

/** The worst over outputs of max |actual - expected| / max |expected|. */
export function contractError(actual: Float32Array[], expected: Float32Array[]): number {
  let worst = 0;
  expected.forEach((reference, k) => {
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < reference.length; i++) {
      scale = Math.max(scale, Math.abs(reference[i]));
      diff = Math.max(diff, Math.abs(reference[i] - actual[k][i]));
    }
    worst = Math.max(worst, diff / Math.max(scale, 1e-12));
  });
  return worst;
}
