/**
 * The README's main command (`pnpm demo`): samples a grid of digits from the shipped MNIST model
 * (`models/mnist-ddpm`) with UniPC, 10 steps (the best quality per second on it; `--scheduler`
 * takes any short name of the schedulers' table) on the fastest CPU backend (wasm with `@diffusion-ts/native`'s
 * kernels when built, else threaded wasm) and writes `mnist-samples.png` in the current directory.
 * `--digit 7` draws that digit from the class-conditional model (`models/mnist-class-ddpm`) with
 * classifier-free guidance.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type * as tf from '@tensorflow/tfjs-core';
import { Generator } from '@diffusion-ts/core';
import { UNet2DModel } from '@diffusion-ts/models';
import { schedulerFromConfig } from '@diffusion-ts/schedulers';
import { describeBackend, initFastBackend } from './backend.js';
import { integerOption, numberOption, schedulerOption, UsageError } from './cli/arguments.js';
import { saveImageGrid } from './images.js';
import { findShippedModel, SHIPPED_CLASS_MODEL_FOLDER } from './model-location.js';
import { ClassConditionalPipeline, DEFAULT_CLASS_GUIDANCE } from './pipelines/class-conditional.js';
import type { GenerateOptions } from './pipelines/generate-options.js';
import { UnconditionalPipeline } from './pipelines/unconditional.js';
import { MNIST_UNET_CONFIG } from './mnist-unet-config.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '16' },
    steps: { type: 'string', default: '10' },
    scheduler: { type: 'string', default: 'unipc' },
    seed: { type: 'string', default: '0' },
    digit: { type: 'string' },
    guidance: { type: 'string', default: String(DEFAULT_CLASS_GUIDANCE) },
    output: { type: 'string', default: 'mnist-samples.png' },
  },
});

/** The checked options (the CLI's own option checks), or exit 2 with a message naming the bad one. */
function readOptions() {
  try {
    const schedulerLabel = schedulerOption(values.scheduler).label;
    return {
      count: integerOption(values.count, 'count', 16, 1, 1024),
      steps: integerOption(values.steps, 'steps', 10, 1, 1000),
      seed: integerOption(values.seed, 'seed', 0, 0),
      digit: values.digit === undefined ? undefined : integerOption(values.digit, 'digit', 0, 0, 9),
      guidanceScale: numberOption(values.guidance, 'guidance', DEFAULT_CLASS_GUIDANCE, 0),
      schedulerLabel,
    };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`demo: ${error.message}`);
    process.exit(2);
  }
}

const { count, steps, seed, digit, guidanceScale, schedulerLabel } = readOptions();
const started = performance.now();
const report = await initFastBackend('wasm');
const onStep = process.stdout.isTTY
  ? (index: number) => void process.stdout.write(`\r${schedulerLabel} step ${index + 1}/${steps}`)
  : undefined;
const options: GenerateOptions = { batchSize: count, numInferenceSteps: steps, generator: new Generator(seed), onStep };

/** The images drawn, what they are, and the seconds spent sampling (loading excluded). */
interface Sampled {
  images: tf.Tensor4D;
  what: string;
  seconds: number;
}

/** Samples `count` images of `digit` from the class-conditional model. */
async function sampleDigit(digitToDraw: number): Promise<Sampled> {
  const folder = findShippedModel(SHIPPED_CLASS_MODEL_FOLDER);
  if (folder === undefined) {
    console.error(`demo: --digit needs the class-conditional model in ${SHIPPED_CLASS_MODEL_FOLDER}, which was not found`);
    process.exit(1);
  }
  const pipeline = await ClassConditionalPipeline.fromPretrained(folder, { scheduler: values.scheduler });
  console.log(`model ${folder} (${pipeline.unet.parameterCount} parameters)`);
  try {
    const begin = performance.now();
    const { images } = await pipeline.generate({ ...options, classLabels: new Array<number>(count).fill(digitToDraw), guidanceScale });
    const what = `${count} images of the digit ${digitToDraw} (guidance ${guidanceScale})`;
    return { images, what, seconds: (performance.now() - begin) / 1000 };
  } finally {
    pipeline.dispose();
  }
}

/** Samples `count` digits from the unconditional model (a random UNet when the model is missing). */
async function sampleAny(): Promise<Sampled> {
  const folder = findShippedModel();
  let pipeline: UnconditionalPipeline;
  if (folder === undefined) {
    console.log('models/mnist-ddpm was not found: sampling from a RANDOMLY INITIALISED UNet (expect noise, not digits)');
    const scheduler = schedulerFromConfig({ num_train_timesteps: 1000 }, values.scheduler);
    pipeline = new UnconditionalPipeline({ unet: UNet2DModel.fromConfig(MNIST_UNET_CONFIG), scheduler });
  } else {
    pipeline = await UnconditionalPipeline.fromPretrained(folder, { scheduler: values.scheduler });
    console.log(`model ${folder} (${pipeline.unet.parameterCount} parameters)`);
  }
  try {
    const begin = performance.now();
    const { images } = await pipeline.generate(options);
    return { images, what: `${count} digits`, seconds: (performance.now() - begin) / 1000 };
  } finally {
    pipeline.dispose();
  }
}

const { images, what, seconds: sampling } = digit === undefined ? await sampleAny() : await sampleDigit(digit);
if (process.stdout.isTTY) process.stdout.write('\n');
const output = resolve(values.output);
await saveImageGrid(output, images, { scale: 2 });
images.dispose();
const seconds = (performance.now() - started) / 1000;
console.log(
  `wrote ${output}: ${what}, ${schedulerLabel} ${steps} steps, seed ${seed}, backend ${describeBackend(report)}; ` +
    `sampling ${sampling.toFixed(1)} s, total ${seconds.toFixed(1)} s`,
);
