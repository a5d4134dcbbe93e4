/**
 * The reverse-diffusion loop every pipeline shares: for each scheduled timestep, scale the input,
 * predict, step. Each step runs in `tf.tidy`, so only the new sample survives it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NoiseGenerator, Scheduler } from '@diffusion-ts/schedulers';

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
