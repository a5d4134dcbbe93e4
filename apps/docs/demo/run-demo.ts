import * as tf from '@tensorflow/tfjs-core';
import * as core from '@diffusion-ts/core';
import type { ConfigJson } from '@diffusion-ts/core';
import { SCHEDULER_NAMES, SCHEDULERS, schedulerFromConfig, type Scheduler } from '@diffusion-ts/schedulers';
import type { DemoModel } from './load-model';

/** One sampler of the demo's menu: a short name of the schedulers' `SCHEDULER_NAMES` and its label. */
export interface SchedulerChoice {
  name: string;
  label: string;
  /** The Diffusers class the short name builds. */
  className: string;
}

/**
 * The samplers the demo offers for a model whose scheduler config is of `modelClassName`: the
 * short names whose class this build implements and declares compatible with that config (so a
 * flow-matching sampler is not offered for a DDPM-trained model).
 */
export function schedulerChoices(modelClassName = 'DDPMScheduler'): SchedulerChoice[] {
  return Object.entries(SCHEDULER_NAMES)
    .filter(([, entry]) => {
      const found = Object.prototype.hasOwnProperty.call(SCHEDULERS, entry.className) ? SCHEDULERS[entry.className] : undefined;
      return found !== undefined && (found.className === modelClassName || found.compatibles.includes(modelClassName));
    })
    .map(([name, entry]) => ({ name, label: entry.label, className: entry.className }));
}

/**
 * The menu entry for a requested scheduler: a short name as it is, a class name (`?scheduler=DDIMScheduler`)
 * as the first short name of that class; undefined when the menu has neither.
 */
export function menuEntry(requested: string, choices: readonly SchedulerChoice[]): string | undefined {
  return (choices.find((choice) => choice.name === requested) ?? choices.find((choice) => choice.className === requested))?.name;
}

/**
 * Builds the chosen scheduler (a short name such as `ddim` or `dpm++2m-karras`, or a class name)
 * from the model's shipped scheduler config, or from the defaults when the model has none.
 */
export function createScheduler(name: string, config: ConfigJson | null): Scheduler {
  return schedulerFromConfig(config ?? { num_train_timesteps: 1000 }, name);
}

/** What {@link generate} needs besides the model. */
export interface GenerateOptions {
  scheduler: Scheduler;
  steps: number;
  batchSize: number;
  sampleSize: number;
  channels: number;
  seed: number;
  /** Draw this class with classifier-free guidance (a class-conditional model): ε = ε(null) + scale · (ε(label) - ε(null)). */
  guidedClass?: { label: number; nullClass: number; guidanceScale: number };
  /** Called after every model evaluation with the current sample (NHWC, values around [-1, 1]). */
  onStep(index: number, total: number, data: Float32Array, shape: number[]): Promise<void> | void;
}

/** Timings of one generation; `computeMilliseconds` excludes the time spent drawing. */
export interface GenerateTimings {
  evaluations: number;
  computeMilliseconds: number;
  /** The first step alone: on WebGPU it includes compiling the shaders. */
  firstStepMilliseconds: number;
  wallMilliseconds: number;
}

function startingNoise(shape: number[], seed: number): { sample: tf.Tensor; generator: core.Generator | undefined } {
  const coreExports = core as Partial<typeof core>;
  if (typeof coreExports.Generator === 'function' && typeof coreExports.randn === 'function') {
    const generator = new coreExports.Generator(seed);
    return { sample: coreExports.randn(shape, generator), generator };
  }
  return { sample: tf.randomNormal(shape, 0, 1, 'float32', seed), generator: undefined };
}

/**
 * The model's noise prediction for one step: plain, or with classifier-free guidance when a class
 * is asked for (the batch runs twice, with the class and with the null class).
 */
function predictNoise(
  model: DemoModel,
  input: tf.Tensor4D,
  timestep: number,
  classLabels: tf.Tensor1D | null,
  guidanceScale: number,
): tf.Tensor4D {
  if (classLabels === null) return model.predict(input, timestep);
  const [conditional, unconditional] = tf.split(model.predict(tf.concat([input, input]), timestep, { classLabels }), 2);
  return tf.add(unconditional, tf.mul(tf.sub(conditional, unconditional), guidanceScale)) as tf.Tensor4D;
}

/**
 * The denoising loop, written out as a custom pipeline would be: seeded noise, then per timestep
 * `scaleModelInput` -> `model.predict` (guided when a class is asked for) -> `scheduler.step`,
 * each inside `tidy`.
 */
export async function generate(model: DemoModel, options: GenerateOptions): Promise<GenerateTimings> {
  const { scheduler } = options;
  scheduler.setTimesteps(options.steps);
  const shape = [options.batchSize, options.sampleSize, options.sampleSize, options.channels];
  const noise = startingNoise(shape, options.seed);
  let sample = tf.tidy(() => tf.mul(noise.sample, scheduler.initNoiseSigma));
  noise.sample.dispose();
  const guided = options.guidedClass;
  const labels =
    guided === undefined
      ? []
      : [...new Array<number>(options.batchSize).fill(guided.label), ...new Array<number>(options.batchSize).fill(guided.nullClass)];
  const classLabels = guided === undefined ? null : tf.tensor1d(labels, 'int32');
  const started = performance.now();
  let compute = 0;
  let first = 0;
  const total = scheduler.timesteps.length;
  try {
    for (const [index, timestep] of scheduler.timesteps.entries()) {
      const stepStarted = performance.now();
      const next = tf.tidy(() => {
        const input = scheduler.scaleModelInput(sample, timestep) as tf.Tensor4D;
        const prediction = predictNoise(model, input, timestep, classLabels, guided?.guidanceScale ?? 1);
        // checkFinite: false avoids a synchronous GPU read-back per step (the sample is read below).
        return scheduler.step(prediction, timestep, sample, { generator: noise.generator, checkFinite: false }).prevSample;
      });
      sample.dispose();
      sample = next;
      const data = (await sample.data()) as Float32Array;
      const elapsed = performance.now() - stepStarted;
      if (index === 0) first = elapsed;
      compute += elapsed;
      await options.onStep(index, total, data, shape);
    }
  } finally {
    sample.dispose();
    classLabels?.dispose();
  }
  return { evaluations: total, computeMilliseconds: compute, firstStepMilliseconds: first, wallMilliseconds: performance.now() - started };
}
