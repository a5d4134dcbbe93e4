/**
 * Test helper: replay a sampling loop of `solvers_loops.json` (or a file of the same layout)
 * with the dummy model and measure every error against Diffusers' numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NoiseGenerator, Scheduler } from '../scheduler.js';
import { dummyModel, float32Values, maxMixedError, maxRelativeError, toTensor, type FixtureArray } from './fixtures.js';

/** One stored loop. */
export interface SolverCase {
  name: string;
  scheduler: string;
  scheduler_config: Record<string, unknown>;
  resolved_config: Record<string, unknown>;
  num_inference_steps: number | null;
  set_timesteps_kwargs: Record<string, unknown>;
  timesteps: FixtureArray;
  sigmas?: FixtureArray;
  init_noise_sigma: number;
  uses_scale_model_input: boolean;
  start_sample: FixtureArray;
  steps: { t: number; prev_sample: FixtureArray; pred_original_sample?: FixtureArray }[];
  noise_draws?: FixtureArray[];
  /** Extra keyword arguments of every `step()` call (Euler's churn). */
  step_kwargs?: Record<string, number>;
  /** Diffusers' `add_noise` (flow: `scale_noise`) of the start corner at two scheduled timesteps. */
  add_noise?: { timesteps: number[]; original: FixtureArray; noise: FixtureArray; result: FixtureArray };
}

/** A file of stored loops. */
export interface SolverFixture {
  cases: SolverCase[];
}

/** The worst errors of one replayed loop. */
export interface SolverReport {
  /** Relative error of the timesteps and of the sigmas. */
  timesteps: number;
  sigmas: number;
  initNoiseSigma: number;
  /** Mixed (abs below 1, rel above) error of every prev_sample and pred_original_sample. */
  prevSample: number;
  predOriginalSample: number;
  /** Mixed error of `addNoise` where the case stores it (else 0). */
  addNoise: number;
  /** Noise draws the scheduler made (must equal the stored count). */
  draws: number;
  /** Tensors left behind besides the result. */
  leaked: number;
}

/** A noise source that hands out the stored draws in order, one `normal(count)` per draw. */
export function replayNoise(draws: readonly FixtureArray[]): NoiseGenerator & { readonly used: number } {
  let used = 0;
  return {
    get used() {
      return used;
    },
    normal(count: number): Float32Array {
      const draw = draws[used];
      if (draw === undefined) throw new Error(`noise draw ${used} requested, only ${draws.length} stored`);
      if (draw.data.length !== count) throw new Error(`noise draw ${used}: ${count} values requested, ${draw.data.length} stored`);
      used += 1;
      return Float32Array.from(draw.data);
    },
  };
}

/** Diffusers' keyword arguments as our camelCase options. */
function camelCased(kwargs: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(kwargs).map(([key, value]) => [key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), value]),
  );
}

/** The `setTimesteps` call of a case: Diffusers' keyword arguments, camelCase. */
export function setTimestepsOf(scheduler: Scheduler, entry: SolverCase): void {
  scheduler.setTimesteps(entry.num_inference_steps ?? undefined, camelCased(entry.set_timesteps_kwargs));
}

/** Replays the loop of `entry` on `scheduler` (already built from its config). */
export function replaySolverLoop(scheduler: Scheduler, entry: SolverCase): SolverReport {
  setTimestepsOf(scheduler, entry);
  const timesteps = maxRelativeError(scheduler.timesteps.map(Math.fround), float32Values(entry.timesteps));
  const sigmas = entry.sigmas ? maxRelativeError(Float64Array.from(scheduler.sigmas ?? [], Math.fround), float32Values(entry.sigmas)) : 0;
  const initNoiseSigma = Math.abs(scheduler.initNoiseSigma - entry.init_noise_sigma) / entry.init_noise_sigma;
  const generator = replayNoise(entry.noise_draws ?? []);
  const stepOptions = { ...camelCased(entry.step_kwargs), generator };
  let addNoise = 0;
  if (entry.add_noise) {
    const { timesteps: at, original, noise, result } = entry.add_noise;
    const [x0, noiseTensor] = [toTensor(original), toTensor(noise)];
    const noisy = scheduler.addNoise(x0, noiseTensor, at.map(Math.fround));
    addNoise = maxMixedError(noisy.dataSync(), float32Values(result));
    tf.dispose([x0, noiseTensor, noisy]);
  }
  const before = tf.memory().numTensors;
  let sample = toTensor(entry.start_sample);
  let prevSample = 0;
  let predOriginalSample = 0;
  entry.steps.forEach((expected, i) => {
    const t = scheduler.timesteps[i];
    if (!(Math.abs(t - expected.t) <= 1e-6 * Math.abs(expected.t))) throw new Error(`step ${i}: timestep ${t}, expected ${expected.t}`);
    const output = tf.tidy(() => dummyModel(entry.uses_scale_model_input ? scheduler.scaleModelInput(sample, t) : sample, t));
    const result = scheduler.step(output, t, sample, stepOptions);
    prevSample = Math.max(prevSample, maxMixedError(result.prevSample.dataSync(), float32Values(expected.prev_sample)));
    if (expected.pred_original_sample) {
      predOriginalSample = Math.max(
        predOriginalSample,
        maxMixedError(result.predOriginalSample.dataSync(), float32Values(expected.pred_original_sample)),
      );
    }
    tf.dispose([output, result.predOriginalSample, sample]);
    sample = result.prevSample;
  });
  const leaked = tf.memory().numTensors - before - 1;
  sample.dispose();
  return { timesteps, sigmas, initNoiseSigma, prevSample, predOriginalSample, addNoise, draws: generator.used, leaked };
}
