/**
 * The reverse-diffusion loop under every pipeline's `generate`: it runs the pipeline's step for
 * each timestep inside `tf.tidy` (only the new sample survives), reports progress, honours the
 * abort signal and frees what it owns on the way out. Also the plain loop `denoiseLoop` and
 * classifier-free guidance.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NoiseGenerator, Scheduler } from '@diffusion-ts/schedulers';
import type { GenerateOptions, StepCallback } from './generate-options.js';

export type { StepCallback } from './generate-options.js';

/** One step of the loop: the next sample from `sample` at `timestep`. Runs inside `tf.tidy`. */
export type DenoiseStep = (sample: tf.Tensor4D, timestep: number) => tf.Tensor;

/**
 * Runs `step` from `start` over `timesteps` and returns the final sample. The loop owns `start`
 * and each intermediate sample (disposed when replaced); on abort or error it frees the current
 * one and rethrows. The scheduler belongs to the caller and is left alone (its step history is
 * reset by the next `setTimesteps`).
 */
export async function runDenoisingLoop(
  start: tf.Tensor4D,
  timesteps: readonly number[],
  control: Pick<GenerateOptions, 'onStep' | 'signal'>,
  step: DenoiseStep,
): Promise<tf.Tensor4D> {
  const { onStep, signal } = control;
  let sample = start;
  try {
    for (let index = 0; index < timesteps.length; index++) {
      signal?.throwIfAborted();
      const timestep = timesteps[index];
      const current = sample;
      sample = tf.tidy(() => step(current, timestep) as tf.Tensor4D);
      current.dispose();
      if (onStep) await onStep(index, timestep, sample);
    }
    signal?.throwIfAborted();
    return sample;
  } catch (error) {
    sample.dispose();
    throw error;
  }
}

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

/** The plain loop (scale the input, predict, step) for a custom pipeline; see `runDenoisingLoop`. */
export function denoiseLoop(options: DenoiseLoopOptions): Promise<tf.Tensor4D> {
  const { scheduler, predict, generator, eta } = options;
  return runDenoisingLoop(options.start, options.timesteps, options, (sample, t) => {
    const input = scheduler.scaleModelInput(sample, t) as tf.Tensor4D;
    return scheduler.step(predict(input, t), t, sample, { generator, eta }).prevSample;
  });
}

/** Classifier-free guidance: uncond + scale (cond - uncond) from a doubled batch [cond; uncond]. */
export function guide(output: tf.Tensor4D, scale: number): tf.Tensor4D {
  const [conditional, unconditional] = tf.split(output, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
  return tf.add(unconditional, tf.mul(tf.sub(conditional, unconditional), scale)) as tf.Tensor4D;
}
