/**
 * Load time, weight memory and encode/decode timings of the tiny Diffusers `AutoencoderKL`
 * fixture (658k parameters, 2 levels): `fromPretrained` from the folder (best of 5), the tensor
 * bytes it holds, a 2x16x16 encode and decode, and a tiled decode of a 2x4x14x20 latent (28x40
 * images, 12 tiles). Run with `pnpm bench` in this package.
 *
 * Environment: BENCH_BACKENDS (default "wasm,wasm+native,cpu").
 */
import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';
import { AutoencoderKL } from '../src/index.js';
import { AUTOENCODER_KL_SMALL_FOLDER } from '../src/testing/autoencoder-fixtures.js';
import { BENCH_BACKENDS, best, loadFigures, startBenchBackend } from './bench-helpers.js';

/** Runs `pass`, waits for its data and frees it. */
async function settle(pass: () => tf.Tensor | { dispose(): void; mean: tf.Tensor }): Promise<void> {
  const result = pass();
  const tensor = result instanceof tf.Tensor ? result : result.mean;
  await tensor.data();
  result.dispose();
}

it('AutoencoderKL (tiny fixture): load time, memory, encode and decode', async () => {
  const rows: string[] = [];
  for (const item of BENCH_BACKENDS) {
    if (!(await startBenchBackend(item))) continue;
    const load = await loadFigures(() => AutoencoderKL.fromPretrained(AUTOENCODER_KL_SMALL_FOLDER), 5);

    const vae = await AutoencoderKL.fromPretrained(AUTOENCODER_KL_SMALL_FOLDER);
    const images = tf.randomNormal([2, 16, 16, 3], 0, 0.5, 'float32', 1) as tf.Tensor4D;
    const latents = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const large = tf.randomNormal([2, 14, 20, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
    const repeats = item === 'cpu' ? 2 : 5;
    const encode = await best(() => settle(() => vae.encode(images)), repeats);
    const decode = await best(() => settle(() => vae.decode(latents)), repeats);
    const tiled = await best(() => settle(() => vae.decode(large, { tiling: true })), repeats);
    const untiled = await best(() => settle(() => vae.decode(large)), repeats);
    tf.dispose([images, latents, large]);
    vae.dispose();
    rows.push(
      `| ${item} | ${load.ms.toFixed(1)} | ${load.held} | ${encode.toFixed(1)} | ${decode.toFixed(1)} | ${tiled.toFixed(1)} | ${untiled.toFixed(1)} |`,
    );
  }
  console.log(
    [
      '| backend | fromPretrained ms | weights held | encode 2x16x16 ms | decode 2x8x8 ms | tiled decode 2x14x20 ms | untiled decode 2x14x20 ms |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
    ].join('\n'),
  );
});
