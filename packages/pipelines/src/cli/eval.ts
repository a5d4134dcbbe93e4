/** `diffusion-ts eval`: bits/dim of a model on the first images of the MNIST test set. */
import * as tf from '@tensorflow/tfjs-core';
import { Generator } from '@diffusion-ts/core';
import { bitsPerDim } from '@diffusion-ts/losses';
import type { DDPMScheduler } from '@diffusion-ts/schedulers';
import { ClassConditionalPipeline } from '../pipelines/class-conditional.js';
import {
  BACKEND_AND_THREADS_OPTIONS,
  BATCH_SIZE_OPTION,
  DATASET_OPTION,
  SEED_OPTION,
  integerOption,
  loadCommandPipeline,
  loadDatasetOption,
  modelFolder,
  parseCommandArgs,
  seedOption,
  type Command,
} from './arguments.js';

const USAGE = `Usage: diffusion-ts eval [model-folder] [options]

Computes the variational bound in bits per dimension (improved-diffusion's bpd: prior term plus
every timestep's KL term and the decoder term, via @diffusion-ts/losses' bitsPerDim) on the first
--count images of the MNIST test set or an image folder. Each image needs one model evaluation per
training timestep (1000 for the shipped model), so keep --count small on a CPU.

Options:
  --dataset <mnist|folder>   test data (default: MNIST t10k)
  --count <n>                images to evaluate (default 16)
  --batch-size <n>           images per model call (default 16)
  --seed <n>                 seed of the noise (default 0)
  --backend <name>           wasm (default), cpu, auto, webgpu, cuda
  --threads <n>              CPU threads: native kernels or threaded wasm (default: all cores, at most 8; 1 on a busy machine)
  -h, --help                 this text`;

async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, USAGE, {
    ...DATASET_OPTION,
    count: { type: 'string' },
    ...BATCH_SIZE_OPTION,
    ...SEED_OPTION,
    ...BACKEND_AND_THREADS_OPTIONS,
  });
  if (args === undefined) return;
  const { values, positionals } = args;
  const folder = modelFolder(positionals);
  const count = integerOption(values.count, 'count', 16);
  const batchSize = integerOption(values['batch-size'], 'batch-size', 16);
  const generator = new Generator(seedOption(values.seed));
  const { pipeline } = await loadCommandPipeline(folder, values, 'ddpm');
  const scheduler = pipeline.scheduler as DDPMScheduler;
  const dataset = await loadDatasetOption(values.dataset, 't10k', { limit: count, channels: pipeline.unet.config.inChannels as 1 | 3 | 4 });
  const [n, height, width, channels] = dataset.shape;
  const started = performance.now();
  let sum = 0;
  try {
    for (let offset = 0; offset < n; offset += batchSize) {
      const size = Math.min(batchSize, n - offset);
      const x0 = tf.tensor4d(dataset.images.subarray(offset * height * width * channels, (offset + size) * height * width * channels), [
        size,
        height,
        width,
        channels,
      ]);
      // A class-conditional model is scored on the images' own labels (the conditional likelihood).
      const classLabels =
        pipeline instanceof ClassConditionalPipeline && dataset.labels
          ? tf.tensor1d(dataset.labels.subarray(offset, offset + size), 'int32')
          : undefined;
      const predict = (xt: tf.Tensor, t: tf.Tensor) =>
        pipeline.unet.predict(xt as tf.Tensor4D, tf.cast(t, 'float32') as tf.Tensor1D, classLabels === undefined ? {} : { classLabels });
      const result = bitsPerDim(predict, scheduler, x0, {
        generator,
        onProgress: process.stdout.isTTY
          ? (done, total) => process.stdout.write(`\rimages ${offset}-${offset + size - 1}: ${done}/${total} timesteps`)
          : undefined,
      });
      const values = await result.totalBpd.data();
      for (const value of values) sum += value;
      tf.dispose([x0, classLabels ?? [], ...Object.values(result)]);
    }
  } finally {
    pipeline.dispose();
  }
  if (process.stdout.isTTY) process.stdout.write('\n');
  console.log(
    `bits/dim ${(sum / n).toFixed(4)} on ${n} images of ${values.dataset === 'mnist' ? 'MNIST t10k' : values.dataset} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
}

/** The `eval` command. */
export const evalCommand: Command = { name: 'eval', summary: 'bits/dim on test images', usage: USAGE, run };
