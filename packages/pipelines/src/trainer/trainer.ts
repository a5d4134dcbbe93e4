/**
 * Trains a diffusion UNet: seeded batches, random timesteps and noise from core's `Generator`,
 * L_simple or L_hybrid from the losses package, gradient accumulation, global-norm clipping,
 * AdamW with warm-up, EMA weights, atomic checkpoints and a JSONL log. A run resumed from a
 * checkpoint reproduces the losses of an uninterrupted run exactly (same backend).
 */
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, Generator, randn, type AdamWOptions, type ConfigJson, type GeneratorState } from '@diffusion-ts/core';
import { lHybrid, lSimple, type LossType } from '@diffusion-ts/losses';
import type { BetaScheduler } from '@diffusion-ts/schedulers';
import type { UNet2DModel } from '@diffusion-ts/models';
import type { BatchIterator, BatchIteratorState } from '../data/dataset.js';
import { assertBackendCanTrain } from './can-train.js';
import { CHECKPOINT_NAME, readCheckpoint, writeCheckpoint, type VariableGroups } from './checkpoint.js';
import { ExponentialMovingAverage, type EmaOptions } from './ema.js';
import { joinPath } from '../paths.js';

/** The model interface the trainer needs (`UNet2DModel` fits). */
export type TrainableModel = Pick<UNet2DModel, 'predict' | 'trainableVariables' | 'parameterNames' | 'toConfig' | 'training'>;

/** Options of `Trainer`. */
export interface TrainerOptions {
  model: TrainableModel;
  /** The noise schedule (a DDPMScheduler); its prediction type sets the target. */
  scheduler: BetaScheduler;
  data: BatchIterator;
  optimizer?: AdamWOptions;
  /** EMA options; `false` turns EMA off (default on, decay 0.999). */
  ema?: EmaOptions | false;
  /** Micro-batches per optimizer step (default 1). */
  gradientAccumulationSteps?: number;
  /** Clip the global gradient norm to this (default 1; 0 or undefined-with-Infinity turns it off). */
  maxGradNorm?: number;
  /** `simple` (default) or `hybrid` (learned-range variance: the model outputs 2C channels). */
  loss?: 'simple' | 'hybrid';
  lossType?: LossType;
  /** Min-SNR-γ weighting of L_simple. */
  snrGamma?: number;
  /** Pass the batch labels as class labels (class-conditional models). */
  classConditional?: boolean;
  /**
   * With `classConditional`: the probability that a label is replaced by `nullClass`, so that the
   * model also learns the unconditional prediction classifier-free guidance needs (default 0).
   */
  classDropout?: number;
  /** The "no class" id `classDropout` uses (default: the model's last class embedding, num_class_embeds - 1). */
  nullClass?: number;
  /** Seed of the timestep and noise stream (default 0). */
  seed?: number;
  /** Run folder: checkpoint, log and exported models go here. */
  outputFolder?: string;
  /** Write a checkpoint every N optimizer steps (default 0: only when asked). */
  checkpointEvery?: number;
  /** Write the JSONL log to `<outputFolder>/training-log.jsonl` (default true with outputFolder). */
  log?: boolean;
}

/** One line of the JSONL log. */
export interface TrainingLogEntry {
  step: number;
  loss: number;
  learningRate: number;
  gradNorm: number;
  stepsPerSecond: number;
  elapsedSeconds: number;
  time: string;
}

/** The JSON part of a checkpoint. */
interface TrainerState {
  step: number;
  optimizerSteps: number;
  emaUpdates: number;
  generator: GeneratorState;
  data: BatchIteratorState;
  elapsedSeconds: number;
  modelConfig: ConfigJson;
  /** The forward process trained on (absent in checkpoints written before it was recorded). */
  noise?: NoiseProcess;
}

/** What a resumed run must share with the checkpoint's: the betas and what the model predicts. */
interface NoiseProcess {
  numTrainTimesteps: number;
  betaSchedule: string;
  predictionType: string;
  /** Σ β_t in float64: catches a changed beta_start / beta_end or trained betas. */
  betaSum: number;
}

function noiseProcessOf(scheduler: BetaScheduler): NoiseProcess {
  const { numTrainTimesteps, betaSchedule, predictionType } = scheduler.config;
  return { numTrainTimesteps, betaSchedule, predictionType, betaSum: scheduler.betas.reduce((sum, beta) => sum + beta, 0) };
}

/** Refuses a checkpoint trained with another forward process, naming what differs. */
function checkNoiseProcess(path: string, saved: NoiseProcess | undefined, current: NoiseProcess): void {
  if (saved === undefined) return;
  const differs = (Object.keys(current) as (keyof NoiseProcess)[]).filter((key) =>
    key === 'betaSum' ? Math.abs(saved.betaSum - current.betaSum) > 1e-9 * Math.max(1, current.betaSum) : saved[key] !== current[key],
  );
  if (differs.length === 0) return;
  const show = (process: NoiseProcess) => differs.map((key) => `${key} ${String(process[key])}`).join(', ');
  throw new Error(`checkpoint ${path} was trained with ${show(saved)}; this run has ${show(current)}`);
}

/** Options of `Trainer.train`. */
export interface TrainOptions {
  /** Train until this many optimizer steps have been taken in total. */
  steps: number;
  /** Called after each step. */
  onStep?: (entry: TrainingLogEntry) => void;
  /** Stops after the current step (a checkpoint is written when an output folder is set). */
  signal?: AbortSignal;
  /** Print a progress line (loss, steps/s, ETA); default: when stdout is a TTY. */
  progress?: boolean;
}

/** The diffusion training loop. */
export class Trainer {
  readonly model: TrainableModel;
  readonly scheduler: BetaScheduler;
  readonly data: BatchIterator;
  readonly optimizer: AdamW;
  readonly ema: ExponentialMovingAverage | null;
  /** Optimizer steps taken. */
  step = 0;
  private generator: Generator;
  private readonly variables: tf.Variable[];
  private readonly names: string[];
  private readonly accumulation: number;
  private readonly maxGradNorm: number;
  private readonly classDropout: number;
  private readonly nullClass: number;
  private elapsedSeconds = 0;

  constructor(readonly options: TrainerOptions) {
    assertBackendCanTrain();
    this.model = options.model;
    this.scheduler = options.scheduler;
    this.data = options.data;
    this.variables = this.model.trainableVariables();
    this.names = this.model.parameterNames();
    this.accumulation = options.gradientAccumulationSteps ?? 1;
    if (!Number.isInteger(this.accumulation) || this.accumulation < 1) {
      throw new RangeError(`Trainer: gradientAccumulationSteps must be a positive integer, got ${this.accumulation}`);
    }
    this.maxGradNorm = options.maxGradNorm ?? 1;
    if (!(this.maxGradNorm >= 0)) throw new RangeError(`Trainer: maxGradNorm must be >= 0, got ${this.maxGradNorm}`);
    const loss = options.loss ?? 'simple';
    if (loss !== 'simple' && loss !== 'hybrid') throw new RangeError(`Trainer: unknown loss '${String(loss)}' (expected simple or hybrid)`);
    if (options.checkpointEvery !== undefined && options.outputFolder === undefined && options.checkpointEvery > 0) {
      throw new Error('Trainer: checkpointEvery needs an outputFolder');
    }
    ({ classDropout: this.classDropout, nullClass: this.nullClass } = checkClassDropout(options));
    this.generator = new Generator(options.seed ?? 0);
    this.optimizer = new AdamW(this.variables, options.optimizer);
    this.ema = options.ema === false ? null : new ExponentialMovingAverage(this.variables, options.ema ?? {});
  }

  /** The checkpoint path of this run (inside `outputFolder`). */
  get checkpointPath(): string {
    if (this.options.outputFolder === undefined) throw new Error('Trainer: no outputFolder was given');
    return joinPath(this.options.outputFolder, CHECKPOINT_NAME);
  }

  /** The JSONL log path of this run. */
  get logPath(): string | undefined {
    return this.options.outputFolder !== undefined && this.options.log !== false
      ? joinPath(this.options.outputFolder, 'training-log.jsonl')
      : undefined;
  }

  /** One micro-batch: its mean loss and gradients (caller disposes). */
  private microStep(): { loss: tf.Scalar; gradients: tf.Tensor[] } {
    const batch = this.data.next();
    try {
      const size = batch.images.shape[0];
      const timesteps = this.generator.randomIntegers(size, 0, this.scheduler.config.numTrainTimesteps);
      const classLabels = this.options.classConditional ? this.classLabelsOf(batch.labels, size) : undefined;
      const noise = randn([...batch.images.shape], this.generator);
      try {
        const noisy = this.scheduler.addNoise(batch.images, noise, timesteps) as tf.Tensor4D;
        const timestepTensor = tf.tensor1d(Float32Array.from(timesteps), 'float32');
        try {
          const { value, grads } = tf.variableGrads(() => {
            const output = this.model.predict(noisy, timestepTensor, classLabels === undefined ? {} : { classLabels });
            const common = {
              x0: batch.images,
              noise,
              timesteps,
              scheduler: this.scheduler,
              lossType: this.options.lossType,
              snrGamma: this.options.snrGamma,
            };
            return this.options.loss === 'hybrid' ? lHybrid(output, { ...common, xt: noisy }) : lSimple(output, common);
          }, this.variables);
          return { loss: value, gradients: this.variables.map((v) => grads[v.name]) };
        } finally {
          tf.dispose([noisy, timestepTensor]);
        }
      } finally {
        noise.dispose();
        if (classLabels !== batch.labels) classLabels?.dispose();
      }
    } finally {
      tf.dispose([batch.images, batch.labels ?? []]);
    }
  }

  /** The batch's labels, each replaced by the null class with probability `classDropout` (one uniform draw per image). */
  private classLabelsOf(labels: tf.Tensor1D | undefined, size: number): tf.Tensor1D {
    if (labels === undefined) throw new Error('Trainer: classConditional needs a dataset with labels');
    if (this.classDropout === 0) return labels;
    const draws = this.generator.uniform(size);
    const dropped = Uint8Array.from(draws, (u) => (u < this.classDropout ? 1 : 0));
    return tf.tidy(() => tf.where(tf.tensor1d(dropped, 'bool'), tf.fill([size], this.nullClass, 'int32'), labels));
  }

  /** One optimizer step (with accumulation); returns the mean loss and the gradient norm before clipping. */
  async trainStep(): Promise<{ loss: number; gradNorm: number }> {
    this.model.training = true;
    let sum: tf.Tensor[] | null = null;
    let lossSum: tf.Scalar = tf.scalar(0);
    try {
      for (let micro = 0; micro < this.accumulation; micro++) {
        const { loss, gradients } = this.microStep();
        const previous: tf.Tensor[] | null = sum;
        const previousLoss = lossSum;
        sum = previous === null ? gradients : tf.tidy(() => gradients.map((g, i) => tf.add(previous[i], g)));
        lossSum = tf.tidy(() => tf.add(previousLoss, loss));
        if (previous !== null) tf.dispose([...previous, ...gradients]);
        tf.dispose([previousLoss, loss]);
      }
      const totals = sum!;
      const scale = 1 / this.accumulation;
      const [normTensor, clipped] = tf.tidy(() => {
        const mean = totals.map((g) => (scale === 1 ? g : tf.mul(g, scale)));
        const norm = tf.sqrt(tf.addN(mean.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
        if (this.maxGradNorm > 0) {
          const factor = tf.minimum(1, tf.div(this.maxGradNorm, tf.add(norm, 1e-6)));
          return [norm, mean.map((g) => tf.mul(g, factor))] as const;
        }
        return [norm, mean.map((g) => tf.clone(g))] as const;
      });
      this.optimizer.applyGradients(clipped);
      tf.dispose([...clipped]);
      this.ema?.update();
      this.step += 1;
      const [lossValue, normValue] = await Promise.all([lossSum.data(), normTensor.data()]);
      normTensor.dispose();
      const loss = lossValue[0] * scale;
      if (!Number.isFinite(loss)) throw new Error(`Trainer: the loss became ${loss} at step ${this.step}; lower the learning rate`);
      return { loss, gradNorm: normValue[0] };
    } finally {
      tf.dispose([...(sum ?? []), lossSum]);
      this.model.training = false;
    }
  }

  /** Trains until `steps` optimizer steps in total; returns the log entries of this call. */
  async train(options: TrainOptions): Promise<TrainingLogEntry[]> {
    const entries: TrainingLogEntry[] = [];
    const logPath = this.logPath;
    // Node's file system only with an output folder, imported lazily so that browser bundles never load it.
    let files: typeof import('node:fs/promises') | undefined;
    if (this.options.outputFolder !== undefined) {
      files = await import('node:fs/promises');
      await files.mkdir(this.options.outputFolder, { recursive: true });
    }
    const progress = options.progress ?? Boolean(globalThis.process?.stdout?.isTTY);
    const startStep = this.step;
    const started = performance.now();
    const every = this.options.checkpointEvery ?? 0;
    while (this.step < options.steps && !options.signal?.aborted) {
      const stepStart = performance.now();
      const { loss, gradNorm } = await this.trainStep();
      const now = performance.now();
      this.elapsedSeconds += (now - stepStart) / 1000;
      const done = this.step - startStep;
      const entry: TrainingLogEntry = {
        step: this.step,
        loss,
        learningRate: this.optimizer.learningRateAt(this.step),
        gradNorm,
        stepsPerSecond: done / ((now - started) / 1000),
        elapsedSeconds: this.elapsedSeconds,
        time: new Date().toISOString(),
      };
      entries.push(entry);
      if (logPath && files) await files.appendFile(logPath, `${JSON.stringify(entry)}\n`);
      options.onStep?.(entry);
      if (progress) {
        const eta = (options.steps - this.step) / entry.stepsPerSecond;
        process.stdout.write(
          `\rstep ${this.step}/${options.steps}  loss ${loss.toFixed(4)}  ${entry.stepsPerSecond.toFixed(2)} steps/s  ETA ${formatDuration(eta)}   `,
        );
      }
      if (every > 0 && this.step % every === 0) await this.saveCheckpoint();
    }
    if (progress) process.stdout.write('\n');
    if (options.signal?.aborted && this.options.outputFolder !== undefined && every > 0) await this.saveCheckpoint();
    return entries;
  }

  /** Writes the checkpoint (weights, EMA, optimizer moments, counters, random states) atomically. */
  async saveCheckpoint(path = this.checkpointPath): Promise<void> {
    const state: TrainerState = {
      step: this.step,
      optimizerSteps: this.optimizer.stepCount,
      emaUpdates: this.ema?.updateCount ?? 0,
      generator: this.generator.getState(),
      data: this.data.getState(),
      elapsedSeconds: this.elapsedSeconds,
      modelConfig: this.model.toConfig(),
      noise: noiseProcessOf(this.scheduler),
    };
    await writeCheckpoint(path, this.groups(), state);
  }

  /**
   * Restores a checkpoint written by `saveCheckpoint` (same model config and forward process: a
   * checkpoint trained with other betas or another prediction type is refused before any weight
   * is touched); the JSONL log is cut back to the checkpoint's step so that it never holds steps
   * that will be redone.
   */
  async loadCheckpoint(path = this.checkpointPath): Promise<void> {
    const current = noiseProcessOf(this.scheduler);
    const state = (await readCheckpoint(path, this.groups(), (saved) =>
      checkNoiseProcess(path, (saved as Partial<TrainerState>).noise, current),
    )) as TrainerState;
    this.step = state.step;
    this.optimizer.stepCount = state.optimizerSteps;
    if (this.ema) this.ema.updateCount = state.emaUpdates;
    this.generator = Generator.fromState(state.generator);
    this.data.setState(state.data);
    this.elapsedSeconds = state.elapsedSeconds;
    const logPath = this.logPath;
    if (logPath) {
      const { readFile, writeFile } = await import('node:fs/promises');
      const text = await readFile(logPath, 'utf8').catch(() => '');
      const kept = text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .filter((line) => {
          try {
            return (JSON.parse(line) as TrainingLogEntry).step <= state.step;
          } catch {
            return false;
          }
        });
      await writeFile(logPath, kept.map((line) => `${line}\n`).join(''));
    }
  }

  /** Copies the EMA weights (or the live weights without EMA) into `target` (same architecture). */
  copyWeightsTo(target: Pick<UNet2DModel, 'trainableVariables'>, source: 'ema' | 'model' = 'ema'): void {
    const from = source === 'ema' && this.ema ? this.ema.shadows : this.variables;
    const to = target.trainableVariables();
    if (to.length !== from.length) throw new Error(`copyWeightsTo: the target has ${to.length} variables, the trainer ${from.length}`);
    to.forEach((variable, i) => variable.assign(from[i]));
  }

  /** Frees the optimizer and EMA state (not the model). */
  dispose(): void {
    this.optimizer.dispose();
    this.ema?.dispose();
  }

  private groups(): VariableGroups {
    const groups: VariableGroups = {
      model: { names: this.names, variables: this.variables },
      adam_m: { names: this.names, variables: this.optimizer.firstMoments },
      adam_v: { names: this.names, variables: this.optimizer.secondMoments },
    };
    if (this.ema) groups.ema = { names: this.names, variables: this.ema.shadows };
    return groups;
  }
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** Checks `classDropout` and finds the null class it uses (the model's last class embedding by default). */
function checkClassDropout(options: TrainerOptions): { classDropout: number; nullClass: number } {
  const classDropout = options.classDropout ?? 0;
  if (!(classDropout >= 0 && classDropout <= 1)) throw new RangeError(`Trainer: classDropout must be in [0, 1], got ${classDropout}`);
  if (classDropout === 0) return { classDropout, nullClass: -1 };
  if (options.classConditional !== true) throw new Error('Trainer: classDropout needs classConditional');
  const embeds = options.model.toConfig().num_class_embeds;
  const classes = typeof embeds === 'number' ? embeds : undefined;
  const nullClass = options.nullClass ?? (classes === undefined ? -1 : classes - 1);
  if (!Number.isInteger(nullClass) || nullClass < 0 || (classes !== undefined && nullClass >= classes)) {
    throw new RangeError(`Trainer: nullClass must be a class id of the model (num_class_embeds ${classes ?? 'not set'}), got ${nullClass}`);
  }
  return { classDropout, nullClass };
}
