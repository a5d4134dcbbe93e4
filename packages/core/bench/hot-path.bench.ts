// Timings of the non-conv kernels on a UNet's hot path on wasm, side by side with tfjs' own
// kernels (one thread) and with @diffusion-ts/native's (when built): GroupNorm compositions,
// attention's batched matMuls (transposed operands or not), nearest upsampling, SiLU.
import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';

import { groupNormalize, initBackend, registerWasmTrainingKernels, silu, upsampleNearest, useNativeKernels } from '../src/index.js';
import { registerGradients } from '../src/backend/init-backend.js';
import { bestTime } from './conv-workload.js';

const REPEATS = 5;

/** GroupNorm through tf.moments over [n, h, w, groups, channels / groups]. */
function groupNormMoments(x: tf.Tensor4D, groups: number, epsilon = 1e-5): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const grouped = tf.reshape(x, [n, h, w, groups, c / groups]);
  const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
  const normalised = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, epsilon)));
  return tf.reshape(normalised, [n, h, w, c]);
}

/** GroupNorm with the statistics from E[x] and E[x²] (two reductions of the same input). */
function groupNormTwoSums(x: tf.Tensor4D, groups: number, epsilon = 1e-5): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const grouped = tf.reshape(x, [n, h, w, groups, c / groups]);
  const mean = tf.mean(grouped, [1, 2, 4], true);
  const meanSquare = tf.mean(tf.square(grouped), [1, 2, 4], true);
  const variance = tf.sub(meanSquare, tf.square(mean));
  const normalised = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, epsilon)));
  return tf.reshape(normalised, [n, h, w, c]);
}

/** GroupNorm with the group layout moved to the front ([n, groups, h·w·c/groups]) for contiguous reductions. */
function groupNormTransposed(x: tf.Tensor4D, groups: number, epsilon = 1e-5): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const grouped = tf.transpose(tf.reshape(x, [n, h * w, groups, c / groups]), [0, 2, 1, 3]);
  const { mean, variance } = tf.moments(grouped, [2, 3], true);
  const normalised = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, epsilon)));
  return tf.reshape(tf.transpose(normalised, [0, 2, 1, 3]), [n, h, w, c]);
}

it('hot-path kernels on wasm', async () => {
  await registerGradients();
  await initBackend('wasm');
  registerWasmTrainingKernels();
  const native = (await useNativeKernels(true)).active;
  const rows = new Map<string, string[]>();
  let nativePass = false;
  const row = (name: string, shape: string, forward: () => tf.Tensor, backward: () => tf.Tensor) => {
    const times = [bestTime(forward, REPEATS).toFixed(2), bestTime(backward, REPEATS).toFixed(2)];
    const key = `${name} | ${shape}`;
    rows.set(key, nativePass ? [...rows.get(key)!, ...times] : times);
  };
  for (nativePass of native ? [false, true] : [false]) {
    await useNativeKernels(nativePass);
    measureAll(row);
  }
  const header = native
    ? [
        '| kernel | shape | forward ms (tfjs wasm) | forward ms (native) | forward+backward ms (tfjs wasm) | forward+backward ms (native) |',
        '|---|---|---|---|---|---|',
      ]
    : ['| kernel | shape | forward ms | forward+backward ms |', '|---|---|---|---|'];
  const lines = [
    ...header,
    ...[...rows].map(([key, t]) => `| ${key} | ${native ? [t[0], t[2], t[1], t[3]].join(' | ') : t.join(' | ')} |`),
  ];
  console.log(lines.join('\n'));
  await useNativeKernels(true);
});

/** Times every hot-path kernel through `row`. */
function measureAll(row: (name: string, shape: string, forward: () => tf.Tensor, backward: () => tf.Tensor) => void): void {
  const x = tf.randomNormal([8, 32, 32, 128], 0, 1, 'float32', 1) as tf.Tensor4D;
  const upstream = tf.randomNormal(x.shape, 0, 1, 'float32', 2) as tf.Tensor4D;
  for (const [name, norm] of [
    ['GroupNorm via tf.moments (5-D)', groupNormMoments],
    ['GroupNorm via E[x], E[x^2]', groupNormTwoSums],
    ['GroupNorm, groups first (transposed)', groupNormTransposed],
    ['GroupNorm, core groupNormalize (matMul sums; used by the models)', groupNormalize],
  ] as const) {
    row(
      name,
      '[8,32,32,128], 32 groups',
      () => norm(x, 32),
      () => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(norm(input as tf.Tensor4D, 32), upstream)))(x),
    );
  }

  // Attention at 16x16 with 4 heads of 64 channels, batch 8: q, k, v are [32, 256, 64].
  const q = tf.randomNormal([32, 256, 64], 0, 1, 'float32', 3) as tf.Tensor3D;
  const k = tf.randomNormal([32, 256, 64], 0, 1, 'float32', 4) as tf.Tensor3D;
  const kT = tf.transpose(k, [0, 2, 1]) as tf.Tensor3D;
  const scores = (a: tf.Tensor3D, b: tf.Tensor3D) => tf.grad((input: tf.Tensor) => tf.sum(tf.matMul(input, b, false, true)))(a);
  row(
    'matMul q·kᵀ (transposeB)',
    '[32,256,64]x[32,256,64]ᵀ',
    () => tf.matMul(q, k, false, true),
    () => scores(q, k),
  );
  row(
    'matMul q·kT (explicit transpose)',
    '[32,256,64]x[32,64,256]',
    () => tf.matMul(q, tf.transpose(k, [0, 2, 1])),
    () => tf.grad((input: tf.Tensor) => tf.sum(tf.matMul(input, tf.transpose(k, [0, 2, 1]))))(q),
  );
  row(
    'matMul q·kT (pre-transposed)',
    '[32,256,64]x[32,64,256]',
    () => tf.matMul(q, kT),
    () => tf.grad((input: tf.Tensor) => tf.sum(tf.matMul(input, kT)))(q),
  );
  row(
    'matMul aᵀ·b (transposeA)',
    '[32,256,64]ᵀx[32,256,64]',
    () => tf.matMul(q, k, true, false),
    () => tf.grad((input: tf.Tensor) => tf.sum(tf.matMul(input, k, true, false)))(q),
  );
  row(
    'softmax',
    '[32,256,256]',
    () => tf.softmax(tf.matMul(q, kT)),
    () => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.softmax(tf.matMul(input, kT)), 0.5)))(q),
  );

  const small = tf.randomNormal([8, 16, 16, 128], 0, 1, 'float32', 5) as tf.Tensor4D;
  const up = tf.randomNormal([8, 32, 32, 128], 0, 1, 'float32', 6) as tf.Tensor4D;
  row(
    'upsampleNearest (core, broadcast)',
    '[8,16,16,128] x2',
    () => upsampleNearest(small),
    () => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(upsampleNearest(input as tf.Tensor4D), up)))(small),
  );
  row(
    'tf.image.resizeNearestNeighbor',
    '[8,16,16,128] x2',
    () => tf.image.resizeNearestNeighbor(small, [32, 32]),
    () => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(input as tf.Tensor4D, [32, 32]), up)))(small),
  );
  row(
    'elementwise add (reference)',
    '[8,32,32,128]',
    () => tf.add(x, upstream),
    () => tf.add(x, upstream),
  );
  row(
    'silu (x·sigmoid x)',
    '[8,32,32,128]',
    () => tf.mul(x, tf.sigmoid(x)),
    () => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.mul(input, tf.sigmoid(input)), upstream)))(x),
  );
  row(
    'silu (core, fused where available)',
    '[8,32,32,128]',
    () => silu(x),
    () => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(silu(input), upstream)))(x),
  );
  tf.dispose([x, upstream, q, k, kT, small, up]);
}
