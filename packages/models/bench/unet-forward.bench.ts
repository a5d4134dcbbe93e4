/**
 * Forward (and one training step) timings of UNet2DModel: the tiny fixture model and the DDPM
 * CIFAR-10 layout (35.7M parameters, random weights) at 32x32, with GFLOP/s from `countFlops` and
 * the fraction of this machine's fp32 peak. Run with `pnpm bench` in this package.
 *
 * Rows: "wasm+native" is the wasm backend with `@diffusion-ts/native`'s kernels (what
 * `initBackend('wasm')` gives in Node when that package is built), "wasm" is tfjs' own wasm
 * kernels (XNNPACK convolutions) plus core's gradient kernels, "cpu" is tfjs' pure-JS backend. The
 * peak is measured (FMA throughput in the widest vectors, every core) by the native addon.
 *
 * Environment: BENCH_BACKENDS (default "wasm,wasm+native,cpu"), BENCH_PEAK_GFLOPS (overrides the
 * measured peak), BENCH_SKIP_CIFAR=1 to time only the tiny model, BENCH_TRAIN=0 for no training.
 */
import { AdamW, initBackend, registerWasmTrainingKernels, useNativeKernels, type BackendName, type ConfigJson } from '@diffusion-ts/core';
import { measureMachinePeak } from '@diffusion-ts/native';
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { it } from 'vitest';
import { countFlops, UNet2DModel, type UNet2DOptions } from '../src/index.js';
import { DDPM_CIFAR10_CONFIG } from '../src/testing/index.js';

type BenchBackend = BackendName | 'wasm+native';
const TRAIN = process.env.BENCH_TRAIN !== '0';
// tfjs' wasm rows first: their training steps need the most wasm memory, and the wasm heap only
// grows (after the native rows it can be too fragmented for the tfjs CIFAR-10 step at batch 8).
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'wasm,wasm+native,cpu').split(',') as BenchBackend[];
const TINY = JSON.parse(
  readFileSync(new URL('../../../fixtures/diffusers/unet2d_tiny/config.json', import.meta.url), 'utf8'),
) as ConfigJson;

interface Case {
  backend: BenchBackend;
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
  if (TRAIN) for (const batch of batches) cases.push({ backend, model: 'tiny (702k)', config: TINY, size: 16, batch, mode: 'train step' });
  if (process.env.BENCH_SKIP_CIFAR !== '1') {
    for (const batch of batches)
      cases.push({ backend, model: 'DDPM CIFAR-10 (35.7M)', config: DDPM_CIFAR10_CONFIG, size: 32, batch, mode: 'forward' });
    if (TRAIN && backend !== 'cpu') {
      for (const batch of batches)
        cases.push({ backend, model: 'DDPM CIFAR-10 (35.7M)', config: DDPM_CIFAR10_CONFIG, size: 32, batch, mode: 'train step' });
    }
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

/** The machine's fp32 peak: BENCH_PEAK_GFLOPS, else measured by the native addon, else the 157. */
async function peak(): Promise<{ gflops: number; source: string }> {
  if (process.env.BENCH_PEAK_GFLOPS) return { gflops: Number(process.env.BENCH_PEAK_GFLOPS), source: 'BENCH_PEAK_GFLOPS' };
  try {
    const { gflops, isa, threads } = await measureMachinePeak(cpus().length);
    return { gflops, source: `measured: FMA throughput, ${isa}, ${threads} threads` };
  } catch (error) {
    return { gflops: 157, source: `the issue's figure (native addon unavailable: ${(error as Error).message})` };
  }
}

it('prints the UNet2DModel benchmark table', async () => {
  const { gflops: PEAK_GFLOPS, source } = await peak();
  const rows: string[] = [];
  // On a shared VM the cores' throughput changes from minute to minute: each row's fraction is of
  // the peak measured just before it (and the table also gives the fraction of the first one).
  const header = `| backend | model | batch | pass | ms | GFLOP | GFLOP/s | peak before the row | % of it | % of ${PEAK_GFLOPS.toFixed(0)} |`;
  rows.push(header, '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const timings = new Map<string, number>();
  for (const item of cases) {
    const backend: BackendName = item.backend === 'wasm+native' ? 'wasm' : item.backend;
    await initBackend(backend);
    if (backend === 'wasm') {
      registerWasmTrainingKernels();
      const status = await useNativeKernels(item.backend === 'wasm+native');
      if (item.backend === 'wasm+native' && !status.active) {
        console.log(`skipping wasm+native: ${status.reason}`);
        continue;
      }
    }
    const rowPeak = (await peak()).gflops;
    const model = UNet2DModel.fromConfig(item.config, { seed: 0 });
    const sample = tf.randomNormal([item.batch, item.size, item.size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const timesteps = tf.tensor1d(
      Array.from({ length: item.batch }, (_, i) => (i * 97) % 1000),
      'int32',
    );
    const forwardFlops = countFlops(item.config, item.batch, item.size);
    const big = item.model.startsWith('DDPM');
    let ms: number;
    let flops: number;
    if (item.mode === 'forward') {
      ms = await time(() => model.predict(sample, timesteps), big && item.backend !== 'wasm+native' ? 1 : 5);
      flops = forwardFlops;
    } else {
      // The optimizer diffusion-ts trains with: AdamW, one fused update kernel per variable.
      const variables = model.trainableVariables();
      const optimizer = new AdamW(variables, { learningRate: 1e-4, weightDecay: 0 });
      const noise = tf.randomNormal(sample.shape, 0, 1, 'float32', 2);
      const step = () => {
        const { value, grads } = tf.variableGrads(
          () => tf.mean(tf.square(tf.sub(model.predict(sample, timesteps), noise))) as tf.Scalar,
          variables,
        );
        optimizer.applyGradients(variables.map((variable) => grads[variable.name]));
        tf.dispose(Object.values(grads));
        return value;
      };
      // One cold step where a step takes minutes (cpu, the large model on tfjs' kernels); else warm, best of 3.
      const cold = item.backend === 'cpu' || (big && item.backend === 'wasm' && item.batch > 1);
      ms = await time(step, cold ? 1 : 3, !cold);
      // Backward is about twice the forward (input and weight gradients).
      flops = 3 * forwardFlops;
      optimizer.dispose();
      noise.dispose();
    }
    const gflops = flops / 1e9;
    const rate = gflops / (ms / 1000);
    const row = `| ${item.backend} | ${item.model} | ${item.batch} | ${item.mode} | ${ms.toFixed(0)} | ${gflops.toFixed(2)}${item.mode === 'forward' ? '' : ' (3x fwd)'} | ${rate.toFixed(1)} | ${rowPeak.toFixed(0)} | ${((100 * rate) / rowPeak).toFixed(1)}% | ${((100 * rate) / PEAK_GFLOPS).toFixed(1)}% |`;
    rows.push(row);
    timings.set(`${item.backend}|${item.model}|${item.batch}|${item.mode}`, ms);
    console.log(row);
    tf.dispose([sample, timesteps]);
    model.dispose();
  }
  await useNativeKernels(true);
  const ratios: string[] = [];
  for (const backend of BACKENDS) {
    for (const model of new Set(cases.map((item) => item.model))) {
      const forward = timings.get(`${backend}|${model}|8|forward`);
      const train = timings.get(`${backend}|${model}|8|train step`);
      if (forward && train) ratios.push(`${backend}, ${model}, batch 8: training step / forward = ${(train / forward).toFixed(2)}x`);
      const tfjs = timings.get(`wasm|${model}|8|forward`);
      if (backend === 'wasm+native' && forward && tfjs)
        ratios.push(`${model}, batch 8 forward: wasm+native is ${(tfjs / forward).toFixed(2)}x faster than tfjs wasm`);
      const tfjsTrain = timings.get(`wasm|${model}|8|train step`);
      if (backend === 'wasm+native' && train && tfjsTrain)
        ratios.push(`${model}, batch 8 training step: wasm+native is ${(tfjsTrain / train).toFixed(2)}x faster than tfjs wasm`);
    }
  }
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} logical cores, ${process.platform} ${process.arch}, node ${process.version}; peak ${PEAK_GFLOPS.toFixed(0)} GFLOP/s (${source})`;
  console.log(`\nUNet2DModel benchmark (${machine})\n${rows.join('\n')}\n\n${ratios.join('\n')}`);
});
