/**
 * Load time, weight memory and encode/decode timings of the tiny Diffusers `AutoencoderKL`
 * fixture (658k parameters, 2 levels): `fromPretrained` from the folder (best of 5), the tensor
 * bytes it holds, a 2x16x16 encode and decode, and a tiled decode of a 2x4x14x20 latent (28x40
 * images, 12 tiles). Run with `pnpm bench` in this package.
 *
 * Environment: BENCH_BACKENDS (default "wasm,wasm+native,cpu").
 */
import { initBackend, useNativeKernels, type BackendName } from '@diffusion-ts/core';
import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';
import { AutoencoderKL } from '../src/index.js';
import { AUTOENCODER_KL_SMALL_FOLDER } from '../src/testing/autoencoder-fixtures.js';

type BenchBackend = BackendName | 'wasm+native';
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'wasm,wasm+native,cpu').split(',') as BenchBackend[];

/** Best wall time in ms of `run` over `repeats` runs after one warm-up. */
async function best(run: () => Promise<unknown> | unknown, repeats: number): Promise<number> {
  await run();
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i += 1) {
    const started = performance.now();
    await run();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

/** Runs `pass`, waits for its data and frees it. */
async function settle(pass: () => tf.Tensor | { dispose(): void; mean: tf.Tensor }): Promise<void> {
  const result = pass();
  const tensor = result instanceof tf.Tensor ? result : result.mean;
  await tensor.data();
  result.dispose();
}

it('AutoencoderKL (tiny fixture): load time, memory, encode and decode', async () => {
  const rows: string[] = [];
  for (const item of BACKENDS) {
    await initBackend(item === 'wasm+native' ? 'wasm' : item);
    if (item.startsWith('wasm')) {
      const status = await useNativeKernels(item === 'wasm+native');
      if (item === 'wasm+native' && !status.active) {
        console.log(`skipping wasm+native: ${status.reason}`);
        continue;
      }
    }
    const bytesBefore = tf.memory().numBytes;
    const tensorsBefore = tf.memory().numTensors;
    const model = await AutoencoderKL.fromPretrained(AUTOENCODER_KL_SMALL_FOLDER);
    const weightBytes = tf.memory().numBytes - bytesBefore;
    const weightTensors = tf.memory().numTensors - tensorsBefore;
    model.dispose();
    const load = await best(async () => (await AutoencoderKL.fromPretrained(AUTOENCODER_KL_SMALL_FOLDER)).dispose(), 5);

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
      `| ${item} | ${load.toFixed(1)} | ${(weightBytes / 2 ** 20).toFixed(2)} MiB in ${weightTensors} tensors | ${encode.toFixed(1)} | ${decode.toFixed(1)} | ${tiled.toFixed(1)} | ${untiled.toFixed(1)} |`,
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
