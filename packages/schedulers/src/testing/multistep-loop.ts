/**
 * Test helper: replays a multistep-solver loop of multistep_loops.json / solvers_loops.json in
 * our NHWC layout (the fixtures are NCHW; every operation of the loop is per element or per batch
 * item, so only the layout of the data changes) and measures the worst error per step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Scheduler } from '../scheduler.js';
import { schedulerFromConfig } from '../registry.js';
import { dummyModel, float32Values, loadFixture, maxMixedError, maxRelativeError, type FixtureArray } from './fixtures.js';
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
  resolved_config: Record<string, unknown>;
  /** Diffusers' `add_noise` of sample0 at scheduled timesteps, one per batch item. */
  add_noise?: { timesteps: number[]; noise: FixtureArray; result: FixtureArray };
}

/** The parts of a loop fixture file the helper reads. */
export interface MultistepFixture {
  sample0_array: FixtureArray;
  sample0_wide_array: FixtureArray;
  cases: MultistepCase[];
}

/** Result of `runMultistepLoop`. */
export interface MultistepReport {
  /** Relative error of the σ schedule (the timesteps must be equal). */
  sigmas: number;
  /** Mixed error of `addNoise` where the case stores it (else 0). */
  addNoise: number;
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
      for (let y = 0; y < h; y += 1)
        for (let x = 0; x < w; x += 1) out[((n * h + y) * w + x) * c + k] = values[((n * c + k) * h + y) * w + x];
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

/** The stored loops of `className` in both fixture files, as `[name, file, case]` rows for `it.each`. */
export function multistepCases(className: string) {
  const files = ['solvers_loops.json', 'multistep_loops.json'] as const;
  const fixtures = new Map(files.map((file) => [file, loadFixture<MultistepFixture>(file)]));
  const cases = files.flatMap((file) =>
    fixtures
      .get(file)!
      .cases.filter((entry) => entry.scheduler === className)
      .map((entry) => [entry.name, file, entry] as const),
  );
  return { fixture: (file: (typeof files)[number]) => fixtures.get(file)!, cases };
}

/**
 * Sets the case's timesteps on `scheduler` (built from its config), then runs the loop from its
 * start sample, comparing the σ schedule, `addNoise` where stored, and every step with
 * `prev_sample` (or, where Diffusers gives NaN, `limit_prev_sample`). Throws if the timesteps differ.
 */
export function runMultistepLoop(scheduler: Scheduler, fixture: MultistepFixture, entry: MultistepCase): MultistepReport {
  const custom = entry.set_timesteps_kwargs.timesteps;
  scheduler.setTimesteps(custom ? undefined : entry.num_inference_steps, custom ? { timesteps: custom } : {});
  if (scheduler.timesteps.join() !== entry.timesteps.data.join())
    throw new Error(`${entry.name}: timesteps [${scheduler.timesteps.join(', ')}], expected [${entry.timesteps.data.join(', ')}]`);
  const sigmas = maxRelativeError(scheduler.sigmas ?? [], float32Values(entry.sigmas));
  let addNoise = 0;
  if (entry.add_noise) {
    const [x0, noise] = [nhwcTensor(fixture.sample0_array), nhwcTensor(entry.add_noise.noise)];
    const noisy = scheduler.addNoise(x0, noise, entry.add_noise.timesteps);
    addNoise = maxMixedError(noisy.dataSync(), nchwToNhwc(float32Values(entry.add_noise.result), entry.add_noise.result.shape));
    tf.dispose([x0, noise, noisy]);
  }
  const start = nhwcTensor(entry.sample0.includes('wide') ? fixture.sample0_wide_array : fixture.sample0_array);
  const generator = replayNoise(
    (entry.noise_draws ?? []).map((draw) => ({ ...draw, data: Array.from(nchwToNhwc(draw.data, draw.shape)) })),
  );
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
  return { sigmas, addNoise, worst, leaked, finite, draws: generator.used };
}

/**
 * Loads every resolved config Diffusers wrote for `className` and lists what does not come back
 * the same from `toConfig` (or warns): empty when all round-trip. `-inf` stands for -Infinity.
 */
export function resolvedConfigMismatches(className: string, cases: readonly (readonly [string, string, MultistepCase])[]): string[] {
  const problems: string[] = [];
  for (const [name, , entry] of cases) {
    const scheduler = schedulerFromConfig({ ...(entry.resolved_config as Record<string, never>), _class_name: className });
    problems.push(...scheduler.configWarnings.map((warning) => `${name}: ${warning}`));
    const written = scheduler.toConfig();
    for (const [key, value] of Object.entries(entry.resolved_config)) {
      const expected = value === '-inf' ? -Infinity : value;
      if (
        !key.startsWith('_') &&
        JSON.stringify(written[key]) !== JSON.stringify(expected) &&
        !(expected === -Infinity && written[key] === -Infinity)
      ) {
        problems.push(`${name}: ${key} = ${JSON.stringify(written[key])}, Diffusers ${JSON.stringify(value)}`);
      }
    }
  }
  return problems;
}
