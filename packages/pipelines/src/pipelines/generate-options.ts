/** Options shared by every pipeline's `generate`, and the pre-flight checks that turn them into a plan. */
import * as tf from '@tensorflow/tfjs-core';
import { Generator, randn } from '@diffusion-ts/core';
import type { Scheduler } from '@diffusion-ts/schedulers';
import { checkStepWork, type MemoryEstimator } from './work-size.js';

/** Per-step callback: step index (0-based), timestep and the sample after the step (do not dispose it). */
export type StepCallback = (stepIndex: number, timestep: number, sample: tf.Tensor4D) => void | Promise<void>;

/** Options of `generate`. */
export interface GenerateOptions {
  /** Images to make (default 1). */
  batchSize?: number;
  /** Denoising steps (default 50; DDPM is usually run with its 1000 training steps). */
  numInferenceSteps?: number;
  /** Seeded random stream for the start noise and stochastic steps (default: a random seed). */
  generator?: Generator;
  /** A seed, used when no generator is given. */
  seed?: number;
  /** DDIM's η (0 = deterministic). Ignored by other schedulers. */
  eta?: number;
  /** Classifier-free guidance weight (conditional pipelines; 1 = no guidance). */
  guidanceScale?: number;
  /** Called after each step with the step index, timestep and current sample (not to be disposed). */
  onStep?: StepCallback;
  /** Cancels generation; the pending promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Image height (default: the model's sample_size). */
  height?: number;
  /** Image width (default: the model's sample_size). */
  width?: number;
}

/** The result of `generate`. */
export interface GenerateResult {
  /** The images, NHWC, nominally in [-1, 1]; the caller disposes them. */
  images: tf.Tensor4D;
}

/** What one `generate` call will run, from checked options. */
export interface GenerationPlan {
  batchSize: number;
  numInferenceSteps: number;
  generator: Generator;
  eta: number | undefined;
  /** 1 means no guidance. */
  guidanceScale: number;
  /** The shape the loop runs on: [batchSize, height, width, the UNet's inChannels]. */
  shape: [number, number, number, number];
}

/** What a plan reads of a pipeline: its UNet's sample size, channels and memory estimate, and its scheduler. */
export interface PlannedPipeline {
  readonly unet: MemoryEstimator & {
    readonly config: { readonly sampleSize: number | readonly [number, number] | null; readonly inChannels: number };
  };
  readonly scheduler: Scheduler;
}

/** How a pipeline runs its UNet, for the size of one step. */
export interface PlannedModelCall {
  /** The UNet sees the batch twice when `guidanceScale` is not 1 (classifier-free guidance). */
  guided?: boolean;
  /** Context tokens of a cross-attention UNet (the encoder states' length). */
  sequenceLength?: number;
}

/**
 * The pre-flight checks of every pipeline's `generate`, run before anything is allocated: the
 * common options, the step count against the schedule, the image size (`height` / `width`, else
 * the UNet's `sample_size`), and the memory of one step against what the backend can hold
 * (`checkStepWork`, counting the doubled batch of a guided `call`). A new check that every
 * generation needs belongs here.
 */
export function planGeneration(
  options: GenerateOptions,
  pipeline: PlannedPipeline,
  context: string,
  call: PlannedModelCall = {},
): GenerationPlan {
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`${context}: batchSize must be a positive integer, got ${String(batchSize)}`);
  const numInferenceSteps = options.numInferenceSteps ?? 50;
  if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
    throw new RangeError(`${context}: numInferenceSteps must be a positive integer, got ${String(numInferenceSteps)}`);
  }
  if (options.eta !== undefined && !(Number.isFinite(options.eta) && options.eta >= 0)) {
    throw new RangeError(`${context}: eta must be a number >= 0, got ${String(options.eta)}`);
  }
  const guidanceScale = options.guidanceScale ?? 1;
  if (!Number.isFinite(guidanceScale))
    throw new RangeError(`${context}: guidanceScale must be a finite number, got ${String(guidanceScale)}`);
  const trainSteps = pipeline.scheduler.config.numTrainTimesteps;
  if (numInferenceSteps > trainSteps) {
    throw new RangeError(`${context}: numInferenceSteps ${numInferenceSteps} exceeds the scheduler's ${trainSteps} training timesteps`);
  }
  const [height, width] = imageSize(pipeline.unet.config.sampleSize, options, context);
  const { inChannels } = pipeline.unet.config;
  const modelBatch = call.guided === true && guidanceScale !== 1 ? 2 * batchSize : batchSize;
  const { sequenceLength } = call;
  checkStepWork(pipeline.unet, { batchSize, modelBatch, height, width, channels: inChannels, sequenceLength }, context);
  const generator = options.generator ?? new Generator(options.seed ?? Math.floor(Math.random() * 2 ** 52));
  return { batchSize, numInferenceSteps, generator, eta: options.eta, guidanceScale, shape: [batchSize, height, width, inChannels] };
}

/** Start noise x_T ~ N(0, σ²) of `shape` from the generator (identical on every backend). */
export function startNoise(shape: [number, number, number, number], scheduler: Scheduler, generator: Generator): tf.Tensor4D {
  return tf.tidy(() => {
    const noise = randn(shape, generator) as tf.Tensor4D;
    return scheduler.initNoiseSigma === 1 ? noise : (tf.mul(noise, scheduler.initNoiseSigma) as tf.Tensor4D);
  });
}

/** The image size to generate: `height`/`width` if given, else the model's `sampleSize`. */
function imageSize(
  sampleSize: number | readonly [number, number] | null,
  size: { height?: number; width?: number },
  context: string,
): [number, number] {
  const fromConfig: [number, number] | null =
    sampleSize === null ? null : typeof sampleSize === 'number' ? [sampleSize, sampleSize] : [sampleSize[0], sampleSize[1]];
  const height = size.height ?? fromConfig?.[0];
  const width = size.width ?? fromConfig?.[1];
  if (height === undefined || width === undefined)
    throw new Error(`${context}: the model config has no sample_size; pass height and width`);
  for (const [name, value] of [
    ['height', height],
    ['width', width],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${context}: ${name} must be a positive integer, got ${String(value)}`);
  }
  return [height, width];
}
