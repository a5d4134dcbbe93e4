/**
 * The reverse-diffusion loop every pipeline shares: for each scheduled timestep, scale the input,
 * predict, step. Each step runs in `tf.tidy`, so only the new sample survives it. Also the
 * `generate` body of the pipelines that start from noise, and classifier-free guidance.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NoiseGenerator, Scheduler } from '@diffusion-ts/schedulers';
import { imageSize, prepareTimesteps, readGenerateOptions, startNoise, type GenerateOptions, type GenerateResult } from './generate-options.js';
import { checkStepWork, type MemoryEstimator } from './work-size.js';

/** Per-step callback: step index (0-based), timestep and the sample after the step (do not dispose it). */
export type StepCallback = (stepIndex: number, timestep: number, sample: tf.Tensor4D) => void | Promise<void>;

/** Inputs of `denoiseLoop`. */
export interface DenoiseLoopOptions {
  scheduler: Scheduler;
  /** x_T (owned by the loop from here on: disposed when replaced). */
  start: tf.Tensor4D;
  /** The timesteps to run (the scheduler's, or a tail of them for img2img). */
  timesteps: readonly number[];
  /** The model output for a scaled sample at a timestep. Runs inside `tf.tidy`. */
  predict: (sample: tf.Tensor4D, timestep: number) => tf.Tensor4D;
  generator?: NoiseGenerator;
  eta?: number;
  onStep?: StepCallback;
  signal?: AbortSignal;
}

/** Runs the loop and returns the final sample; on abort or error every intermediate tensor is freed. */
export async function denoiseLoop(options: DenoiseLoopOptions): Promise<tf.Tensor4D> {
  const { scheduler, timesteps, predict, generator, eta, onStep, signal } = options;
  let sample = options.start;
  try {
    for (let index = 0; index < timesteps.length; index++) {
      signal?.throwIfAborted();
      const timestep = timesteps[index];
      const current = sample;
      const next = tf.tidy(() => {
        const input = scheduler.scaleModelInput(current, timestep) as tf.Tensor4D;
        const output = predict(input, timestep);
        const stepOptions = eta === undefined ? { generator } : { generator, eta };
        return scheduler.step(output, timestep, current, stepOptions).prevSample as tf.Tensor4D;
      });
      current.dispose();
      sample = next;
      if (onStep) await onStep(index, timestep, sample);
    }
    signal?.throwIfAborted();
    return sample;
  } catch (error) {
    sample.dispose();
    scheduler.dispose();
    throw error;
  }
}

/** `denoiseLoop` with `eta`, `onStep` and `signal` taken from a pipeline's `generate` options. */
export function denoiseWith(
  options: Pick<GenerateOptions, 'eta' | 'onStep' | 'signal'>,
  loop: Omit<DenoiseLoopOptions, 'eta' | 'onStep' | 'signal'>,
): Promise<tf.Tensor4D> {
  return denoiseLoop({ ...loop, eta: options.eta, onStep: options.onStep, signal: options.signal });
}

/** Classifier-free guidance: uncond + scale (cond - uncond) from a doubled batch [cond; uncond]. */
export function guide(output: tf.Tensor4D, scale: number): tf.Tensor4D {
  const [conditional, unconditional] = tf.split(output, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
  return tf.add(unconditional, tf.mul(tf.sub(conditional, unconditional), scale)) as tf.Tensor4D;
}

/** A model whose `predict` takes a conditioning object. */
export interface ConditionedModel<Conditioning> {
  predict(sample: tf.Tensor4D, timestep: number, conditioning: Conditioning): tf.Tensor4D;
}

/**
 * The loop's `predict` for a conditioned model. At `guidanceScale` 1 the model sees the batch as
 * is; otherwise it sees the batch twice, [sample; sample], with `conditioning` holding the
 * conditional rows then the unconditional ones, and `guide` combines the two halves.
 */
export function guidedPredict<Conditioning>(
  model: ConditionedModel<Conditioning>,
  conditioning: Conditioning,
  guidanceScale: number,
): DenoiseLoopOptions['predict'] {
  if (guidanceScale === 1) return (sample, timestep) => model.predict(sample, timestep, conditioning);
  return (sample, timestep) => guide(model.predict(tf.concat([sample, sample], 0), timestep, conditioning), guidanceScale);
}

/** The model call of one `generate`: the loop's `predict` and what to free when the loop ends. */
export interface Denoiser {
  predict: DenoiseLoopOptions['predict'];
  dispose?: () => void;
}

/** A pipeline that generates from noise: its UNet's sample size and channels (and memory estimate), and its scheduler. */
export interface NoisePipeline {
  readonly unet: MemoryEstimator & { readonly config: { readonly sampleSize: number | readonly [number, number] | null; readonly inChannels: number } };
  readonly scheduler: Scheduler;
}

/**
 * The `generate` of a pipeline that starts from noise: checks the options, sets the timesteps,
 * takes the image size from the options or the UNet's `sample_size`, then builds the model call
 * for the guidance scale (default 1) and runs the loop from seeded noise x_T.
 */
export async function generateFromNoise(
  pipeline: NoisePipeline,
  options: GenerateOptions,
  context: string,
  denoiser: (guidanceScale: number) => Denoiser,
  sequenceLength?: number,
): Promise<GenerateResult> {
  const { batchSize, numInferenceSteps, generator } = readGenerateOptions(options, context);
  const { scheduler, unet } = pipeline;
  const [height, width] = imageSize(unet.config.sampleSize, options, context);
  const guidanceScale = options.guidanceScale ?? 1;
  const modelBatch = guidanceScale === 1 ? batchSize : 2 * batchSize;
  checkStepWork(unet, { batchSize, modelBatch, height, width, channels: unet.config.inChannels, sequenceLength }, context);
  const timesteps = prepareTimesteps(scheduler, numInferenceSteps, context);
  const { predict, dispose } = denoiser(guidanceScale);
  try {
    const start = startNoise([batchSize, height, width, unet.config.inChannels], scheduler, generator);
    return { images: await denoiseWith(options, { scheduler, start, timesteps, predict, generator }) };
  } finally {
    dispose?.();
  }
}
