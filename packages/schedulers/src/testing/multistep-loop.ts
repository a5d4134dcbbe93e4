/**
 * Test helper: replays a multistep-solver loop of multistep_loops.json / solvers_loops.json in
 * our NHWC layout (the fixtures are NCHW; every operation of the loop is per element or per batch
 * item, so only the layout of the data changes) and measures the worst error per step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Scheduler } from '../scheduler.js';
import { dummyModel, float32Values, maxMixedError, type FixtureArray } from './fixtures.js';
import { replayNoise } from './solvers.js';

/** One stored loop. */
export interface MultistepCase {
  name: string;
  scheduler: string;
  scheduler_config: Record<string, unknown>;
  num_inference_steps: number;
  set_timesteps_kwargs: { timesteps?: number[] };
  timesteps: FixtureArray;
  sigmas: FixtureArray;
  sample0: string;
  model?: string;
  steps: { i: number; t: number; prev_sample?: FixtureArray; limit_prev_sample?: FixtureArray }[];
  noise_draws?: FixtureArray[];
  diffusers_non_finite_steps?: number[];
}

/** The parts of a loop fixture file the helper reads. */
export interface MultistepFixture {
  sample0_array: FixtureArray;
  sample0_wide_array: FixtureArray;
  cases: MultistepCase[];
}

/** Result of `runMultistepLoop`. */
export interface MultistepReport {
  /** Worst mixed error (absolute below 1, relative above) over every step. */
  worst: number;
  /** Tensors left behind besides the final sample (0 expected). */
  leaked: number;
  /** Whether every step's sample was finite. */
  finite: boolean;
  /** `normal` calls made by the scheduler. */
  draws: number;
}

/** Flat NCHW values as flat NHWC values. */
export function nchwToNhwc(values: ArrayLike<number>, [b, c, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(b * c * h * w);
  for (let n = 0; n < b; n += 1)
    for (let k = 0; k < c; k += 1)
      for (let y = 0; y < h; y += 1) for (let x = 0; x < w; x += 1) out[((n * h + y) * w + x) * c + k] = values[((n * c + k) * h + y) * w + x];
  return out;
}

/** The fixture array as an NHWC float32 tensor. */
export function nhwcTensor(array: FixtureArray): tf.Tensor {
  const [b, c, h, w] = array.shape;
  return tf.tensor(nchwToNhwc(array.data, array.shape), [b, h, w, c], 'float32');
}

/** The fixture's model on NHWC tensors: the dummy, or the dummy followed by "variance" channels. */
function model(kind: string | undefined, sample: tf.Tensor, t: number): tf.Tensor {
  if (kind !== 'dummy_learned_variance') return dummyModel(sample, t);
  return tf.tidy(() => {
    const epsilon = dummyModel(sample, t);
    return tf.concat([epsilon, tf.sub(0.5, epsilon)], -1);
  });
}

/**
 * Runs the case from its start sample with `scheduler` (already `setTimesteps`-ed), comparing
 * every step with `prev_sample` (or, where Diffusers gives NaN, `limit_prev_sample`).
 */
export function runMultistepLoop(scheduler: Scheduler, fixture: MultistepFixture, entry: MultistepCase): MultistepReport {
  const start = nhwcTensor(entry.sample0.includes('wide') ? fixture.sample0_wide_array : fixture.sample0_array);
  const generator = replayNoise((entry.noise_draws ?? []).map((draw) => ({ ...draw, data: Array.from(nchwToNhwc(draw.data, draw.shape)) })));
  const before = tf.memory().numTensors;
  let sample = start;
  let worst = 0;
  let finite = true;
  entry.steps.forEach((expected, i) => {
    const t = scheduler.timesteps[i];
    if (t !== expected.t) throw new Error(`${entry.name} step ${i}: timestep ${t}, expected ${expected.t}`);
    const output = model(entry.model, sample, t);
    const { prevSample, predOriginalSample } = scheduler.step(output, t, sample, { generator });
    const values = prevSample.dataSync();
    finite &&= values.every(Number.isFinite);
    const reference = expected.prev_sample ?? expected.limit_prev_sample!;
    const [b, c, h, w] = reference.shape;
    worst = Math.max(worst, maxMixedError(values, nchwToNhwc(float32Values(reference), [b, c, h, w])));
    tf.dispose([output, predOriginalSample]);
    if (sample !== start) sample.dispose();
    sample = prevSample;
  });
  const leaked = tf.memory().numTensors - before - 1;
  tf.dispose([sample, start]);
  return { worst, leaked, finite, draws: generator.used };
}
