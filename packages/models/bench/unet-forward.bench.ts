/**
 * Forward (and one training step) timings of UNet2DModel: the tiny fixture model and the DDPM
 * CIFAR-10 layout (35.7M parameters, random weights) at 32x32, with GFLOP/s from `countFlops` and
 * the fraction of this machine's fp32 peak. Run with `pnpm bench` in this package.
 *
 * Training steps use core's wasm gradient kernels (`registerWasmTrainingKernels`).
 *
 * Environment: BENCH_BACKENDS (default "wasm,cpu"), BENCH_PEAK_GFLOPS (default 157: 2 cores,
 * AVX2 FMA), BENCH_SKIP_CIFAR=1 to time only the tiny model.
 */
import { initBackend, registerWasmTrainingKernels, type BackendName, type ConfigJson } from '@diffusion-ts/core';
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { it } from 'vitest';
import { countFlops, UNet2DModel, type UNet2DOptions } from '../src/index.js';
import { DDPM_CIFAR10_CONFIG } from '../src/testing/cifar-config.js';

const PEAK_GFLOPS = Number(process.env.BENCH_PEAK_GFLOPS ?? 157);
const TRAIN = process.env.BENCH_TRAIN !== '0';
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'wasm,cpu').split(',') as BackendName[];
const TINY = JSON.parse(readFileSync(new URL('../../../fixtures/diffusers/unet2d_tiny/config.json', import.meta.url), 'utf8')) as ConfigJson;

interface Case {
  backend: BackendName;
  model: string;
  config: ConfigJson | Partial<UNet2DOptions>;
  size: number;
  batch: number;
  mode: 'forward' | 'train step';
}

const cases: Case[] = [];
for (const backend of BACKENDS) {
  const batches = backend === 'cpu' ? [1] : [1, 8];
  for (const batch of batches) cases.push({ backend, model: 'tiny (702k)', config: TINY, size: 16, batch, mode: 'forward' });
  if (TRAIN) cases.push({ backend, model: 'tiny (702k)', config: TINY, size: 16, batch: 8, mode: 'train step' });
  if (process.env.BENCH_SKIP_CIFAR !== '1') {
    for (const batch of batches) cases.push({ backend, model: 'DDPM CIFAR-10 (35.7M)', config: DDPM_CIFAR10_CONFIG, size: 32, batch, mode: 'forward' });
    if (TRAIN && backend !== 'cpu') cases.push({ backend, model: 'DDPM CIFAR-10 (35.7M)', config: DDPM_CIFAR10_CONFIG, size: 32, batch: 8, mode: 'train step' });
  }
}

/** Best wall time in ms over `repeats` runs, after one warm-up run when `warmUp`. */
async function time(run: () => tf.Tensor, repeats: number, warmUp = true): Promise<number> {
  if (warmUp) {
    const warm = run();
    await warm.data();
    warm.dispose();
  }
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i += 1) {
    const started = performance.now();
    const result = run();
    await result.data();
    best = Math.min(best, performance.now() - started);
    result.dispose();
  }
  return best;
}

it('prints the UNet2DModel benchmark table', async () => {
  const rows: string[] = [];
  const header = `| backend | model | batch | pass | ms | GFLOP | GFLOP/s | % of ${PEAK_GFLOPS} GFLOP/s peak |`;
  rows.push(header, '| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const item of cases) {
    await initBackend(item.backend);
    if (item.backend === 'wasm') registerWasmTrainingKernels();
    const model = UNet2DModel.fromConfig(item.config, { seed: 0 });
    const sample = tf.randomNormal([item.batch, item.size, item.size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const timesteps = tf.tensor1d(Array.from({ length: item.batch }, (_, i) => (i * 97) % 1000), 'int32');
    const forwardFlops = countFlops(item.config, item.batch, item.size);
    const big = item.model.startsWith('DDPM');
    let ms: number;
    let flops: number;
    if (item.mode === 'forward') {
      ms = await time(() => model.predict(sample, timesteps), big ? 1 : 3);
      flops = forwardFlops;
    } else {
      const optimizer = tf.train.adam(1e-4);
      const noise = tf.randomNormal(sample.shape, 0, 1, 'float32', 2);
      const step = () =>
        optimizer.minimize(() => tf.mean(tf.square(tf.sub(model.predict(sample, timesteps), noise))) as tf.Scalar, true, model.trainableVariables())!;
      // One cold step for the large model and on cpu (tfjs cpu's Conv2DBackpropFilter is slow).
      const cold = big || item.backend === 'cpu';
      ms = await time(step, cold ? 1 : 2, !cold);
      // Backward is about twice the forward (input and weight gradients).
      flops = 3 * forwardFlops;
      optimizer.dispose();
      noise.dispose();
    }
    const gflops = flops / 1e9;
    const rate = gflops / (ms / 1000);
    const row = `| ${item.backend} | ${item.model} | ${item.batch} | ${item.mode} | ${ms.toFixed(0)} | ${gflops.toFixed(2)}${item.mode === 'forward' ? '' : ' (3x fwd)'} | ${rate.toFixed(1)} | ${((100 * rate) / PEAK_GFLOPS).toFixed(1)}% |`;
    rows.push(row);
    console.log(row);
    tf.dispose([sample, timesteps]);
    model.dispose();
  }
  console.log(`\nUNet2DModel forward benchmark (${process.platform} ${process.arch}, node ${process.version})\n${rows.join('\n')}`);
});
