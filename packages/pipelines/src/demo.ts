/**
 * The README's main command (`pnpm demo`): samples a grid of digits from the shipped MNIST model
 * (`models/mnist-ddpm`) with DDIM on the fastest CPU backend (wasm with `@diffusion-ts/native`'s
 * kernels when built, else threaded wasm) and writes `mnist-samples.png` in the current directory.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Generator } from '@diffusion-ts/core';
import { UNet2DModel } from '@diffusion-ts/models';
import { DDIMScheduler } from '@diffusion-ts/schedulers';
import { describeBackend, initFastBackend } from './backend.js';
import { saveImageGrid } from './images.js';
import { findShippedModel } from './model-location.js';
import { UnconditionalPipeline } from './pipelines/unconditional.js';
import { MNIST_UNET_CONFIG } from './mnist-unet-config.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '16' },
    steps: { type: 'string', default: '25' },
    seed: { type: 'string', default: '0' },
    output: { type: 'string', default: 'mnist-samples.png' },
  },
});
const count = Number(values.count);
const steps = Number(values.steps);
const seed = Number(values.seed);
const started = performance.now();
const report = await initFastBackend('wasm');
const folder = findShippedModel();
let pipeline: UnconditionalPipeline;
if (folder === undefined) {
  console.log('models/mnist-ddpm was not found: sampling from a RANDOMLY INITIALISED UNet (expect noise, not digits)');
  pipeline = new UnconditionalPipeline({ unet: UNet2DModel.fromConfig(MNIST_UNET_CONFIG), scheduler: new DDIMScheduler() });
} else {
  pipeline = await UnconditionalPipeline.fromPretrained(folder, { scheduler: 'ddim' });
  console.log(`model ${folder} (${pipeline.unet.parameterCount} parameters)`);
}
const loaded = performance.now();
const { images } = await pipeline.generate({
  batchSize: count,
  numInferenceSteps: steps,
  generator: new Generator(seed),
  onStep: process.stdout.isTTY ? (index) => void process.stdout.write(`\rDDIM step ${index + 1}/${steps}`) : undefined,
});
if (process.stdout.isTTY) process.stdout.write('\n');
const output = resolve(values.output);
await saveImageGrid(output, images, { scale: 2 });
images.dispose();
pipeline.dispose();
const seconds = (performance.now() - started) / 1000;
console.log(
  `wrote ${output}: ${count} digits, DDIM ${steps} steps, seed ${seed}, backend ${describeBackend(report)}; ` +
    `sampling ${((performance.now() - loaded) / 1000).toFixed(1)} s, total ${seconds.toFixed(1)} s`,
);
