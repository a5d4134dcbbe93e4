import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { DDIMScheduler } from './ddim.js';
import { DDPMScheduler } from './ddpm.js';
import { PNDMScheduler } from './pndm.js';
import { schedulerFromConfig } from './registry.js';
import type { Scheduler } from './scheduler.js';
import {
  dummyModel,
  float32Values,
  loadFixture,
  maxMixedError,
  recordError,
  toTensor,
  worstErrors,
  type FixtureArray,
} from './testing/fixtures.js';
import { wave } from './testing/inputs.js';

interface TimestepEntry {
  scheduler: string;
  scheduler_config: Record<string, unknown>;
  num_inference_steps: number;
  timesteps: FixtureArray;
  previous_timestep_of_each?: FixtureArray;
  prk_timesteps?: FixtureArray;
  plms_timesteps?: FixtureArray;
}
interface AddNoiseFixture {
  x0: FixtureArray;
  noise: FixtureArray;
  cases: {
    scheduler: string;
    scheduler_config: Record<string, unknown>;
    timesteps: FixtureArray;
    timesteps_kind: string;
    input_dtype: string;
    noisy: FixtureArray;
  }[];
  get_velocity: { scheduler_config: Record<string, unknown>; timesteps: FixtureArray; velocity: FixtureArray };
}

const timestepFixture = loadFixture<{ entries: TimestepEntry[] }>('timesteps.json');
const addNoiseFixture = loadFixture<AddNoiseFixture>('add_noise.json');

const build = (name: string, config: Record<string, unknown>): Scheduler => schedulerFromConfig({ ...config, _class_name: name });

describe('timesteps (timesteps.json)', () => {
  it.each(
    timestepFixture.entries.map(
      (entry) => [`${entry.scheduler} N=${entry.num_inference_steps} ${JSON.stringify(entry.scheduler_config)}`, entry] as const,
    ),
  )('%s', (_, entry) => {
    const scheduler = build(entry.scheduler, entry.scheduler_config);
    scheduler.setTimesteps(entry.num_inference_steps);
    expect(scheduler.timesteps).toEqual(entry.timesteps.data);
    if (entry.previous_timestep_of_each) {
      const ddpm = scheduler as DDPMScheduler;
      expect(scheduler.timesteps.map((t) => ddpm.previousTimestep(t))).toEqual(entry.previous_timestep_of_each.data);
    }
    if (entry.prk_timesteps) expect((scheduler as PNDMScheduler).prkTimesteps).toEqual(entry.prk_timesteps.data);
    if (entry.plms_timesteps) expect((scheduler as PNDMScheduler).plmsTimesteps).toEqual(entry.plms_timesteps.data);
  });
});

describe.each(testBackendNames())('addNoise / getVelocity on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => {
    console.log(
      `[${backend}] add_noise.json max error: float32 inputs ${worstErrors.get(`add-noise-32-${backend}`)?.toExponential(3)}, float64 inputs (computed in float32) ${worstErrors.get(`add-noise-64-${backend}`)?.toExponential(3)}`,
    );
  });

  it.each(
    addNoiseFixture.cases.map(
      (entry) =>
        [`${entry.scheduler} ${String(entry.scheduler_config.beta_schedule)} ${entry.timesteps_kind} ${entry.input_dtype}`, entry] as const,
    ),
  )('%s', (_, entry) => {
    const scheduler = build(entry.scheduler, entry.scheduler_config);
    const x0 = toTensor(addNoiseFixture.x0);
    const noise = toTensor(addNoiseFixture.noise);
    const before = tf.memory().numTensors;
    const noisy = scheduler.addNoise(x0, noise, entry.timesteps.data);
    expect(tf.memory().numTensors).toBe(before + 1);
    // tfjs has no float64: float64 cases run in float32 and are compared within 1e-6.
    const error = maxMixedError(noisy.dataSync(), entry.input_dtype === 'float32' ? float32Values(entry.noisy) : entry.noisy.data);
    recordError(`add-noise-${entry.input_dtype === 'float32' ? 32 : 64}-${backend}`, error);
    expect(error).toBeLessThanOrEqual(entry.input_dtype === 'float32' ? 1e-7 : 1e-6);
    tf.dispose([x0, noise, noisy]);
  });

  it('accepts timesteps as a number, Int32Array or tensor', () => {
    const scheduler = new DDPMScheduler();
    const x0 = toTensor(addNoiseFixture.x0);
    const noise = toTensor(addNoiseFixture.noise);
    const t = tf.tensor1d([0, 499, 999], 'int32');
    const results = [
      scheduler.addNoise(x0, noise, t),
      scheduler.addNoise(x0, noise, Int32Array.from([0, 499, 999])),
      scheduler.addNoise(x0, noise, 250),
      scheduler.addNoise(x0, noise, [250]),
    ];
    expect(Array.from(results[0].dataSync())).toEqual(Array.from(results[1].dataSync()));
    expect(Array.from(results[2].dataSync())).toEqual(Array.from(results[3].dataSync()));
    tf.dispose([x0, noise, t, ...results]);
  });

  it('getVelocity matches DDPMScheduler.get_velocity', () => {
    const entry = addNoiseFixture.get_velocity;
    const scheduler = DDPMScheduler.fromConfig(entry.scheduler_config);
    const x0 = toTensor(addNoiseFixture.x0);
    const noise = toTensor(addNoiseFixture.noise);
    const velocity = scheduler.getVelocity(x0, noise, entry.timesteps.data);
    const error = maxMixedError(velocity.dataSync(), float32Values(entry.velocity));
    recordError(`add-noise-32-${backend}`, error);
    expect(error).toBeLessThanOrEqual(1e-7);
    tf.dispose([x0, noise, velocity]);
  });
});

describe.each(testBackendNames())('layout and memory on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it('NHWC input gives the transposed NCHW result (DDIM fixture loop)', () => {
    const fixture = loadFixture<{ sample0_array: FixtureArray; cases: { steps: { prev_sample: FixtureArray }[] }[] }>('ddim_loop_10.json');
    const scheduler = new DDIMScheduler();
    scheduler.setTimesteps(10);
    const nchw = toTensor(fixture.sample0_array);
    let sample = tf.transpose(nchw, [0, 2, 3, 1]);
    for (const t of scheduler.timesteps) {
      const output = dummyModel(sample, t);
      const { prevSample, predOriginalSample } = scheduler.step(output, t, sample);
      tf.dispose([output, predOriginalSample, sample]);
      sample = prevSample;
    }
    const back = tf.transpose(sample, [0, 3, 1, 2]);
    const expected = fixture.cases[0].steps[9].prev_sample;
    expect(maxMixedError(back.dataSync(), float32Values(expected))).toBeLessThan(1e-5);
    tf.dispose([nchw, sample, back]);
  });

  it.each([
    ['DDPM', () => new DDPMScheduler()],
    ['DDIM', () => new DDIMScheduler()],
    ['PNDM (PRK + PLMS)', () => new PNDMScheduler()],
  ] as const)('a 50-step %s loop leaves only its result', (_, make) => {
    const scheduler = make();
    scheduler.setTimesteps(50);
    const generator = { normal: (count: number) => Float32Array.from(wave(count, 0.3, 0.4)) };
    const before = tf.memory().numTensors;
    let sample = tf.tensor(Float32Array.from(wave(48, 0.9, 0.1)), [1, 4, 4, 3]);
    for (const t of scheduler.timesteps) {
      const next = tf.tidy(() => scheduler.step(dummyModel(sample, t), t, sample, { generator }).prevSample);
      sample.dispose();
      sample = next;
    }
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(Number.isFinite(sample.dataSync()[0])).toBe(true);
    sample.dispose();
  });
});

describe.each(testBackendNames())('bad input on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  const x = () => tf.ones([1, 2, 2, 3]);

  it.each([
    ['DDIM', () => new DDIMScheduler()],
    ['PNDM', () => new PNDMScheduler()],
  ] as const)('%s: step before setTimesteps', (_, make) => {
    const input = x();
    expect(() => make().step(input, 999, input)).toThrow(/call setTimesteps\(n\) before step\(\)/);
    input.dispose();
  });

  it.each([
    ['DDPM', () => new DDPMScheduler()],
    ['DDIM', () => new DDIMScheduler()],
    ['PNDM', () => new PNDMScheduler()],
  ] as const)('%s: timestep not in the schedule, bad numInferenceSteps, shape mismatch, NaN', (_, make) => {
    const scheduler = make();
    expect(() => scheduler.setTimesteps(1001)).toThrow(/numInferenceSteps \(1001\) cannot be larger than numTrainTimesteps \(1000\)/);
    expect(() => scheduler.setTimesteps(0)).toThrow(/numInferenceSteps must be an integer >= 1/);
    expect(() => scheduler.setTimesteps(2.5)).toThrow(/numInferenceSteps must be an integer >= 1/);
    scheduler.setTimesteps(10);
    const input = x();
    const before = tf.memory().numTensors;
    expect(() => scheduler.step(input, 901, input)).toThrow(/timestep 901 is not in the schedule/);
    const wide = tf.ones([1, 2, 2, 4]);
    expect(() => scheduler.step(wide, 900, input)).toThrow(/modelOutput shape \[1, 2, 2, 4\] does not match sample shape \[1, 2, 2, 3\]/);
    const nan = tf.tensor([1, 2, NaN, 4, 5, 6, 7, 8, 9, 10, 11, 12], [1, 2, 2, 3]);
    expect(() => scheduler.step(nan, 900, input)).toThrow(/modelOutput contains NaN/);
    expect(() => scheduler.step(input, 900, nan)).toThrow(/sample contains NaN/);
    const unchecked = scheduler.step(nan, 900, input, { checkFinite: false });
    tf.dispose([unchecked.prevSample, unchecked.predOriginalSample]);
    scheduler.setTimesteps(10);
    expect(() => scheduler.addNoise(nan, input, 5)).toThrow(/contains NaN/);
    expect(() => scheduler.addNoise(input, input, 1000)).toThrow(/timestep 1000 is not an integer in \[0, 1000\)/);
    expect(() => scheduler.addNoise(input, input, [1, 2])).toThrow(/got 2 timesteps for a batch of 1/);
    expect(() => scheduler.addNoise(input, wide, 1)).toThrow(/shape/);
    const ints = tf.ones([1, 2, 2, 3], 'int32');
    expect(() => scheduler.step(ints, 900, input)).toThrow(/modelOutput must be a float32 tensor, got int32/);
    tf.dispose([wide, nan, ints]);
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
  });

  it('DDIM: NaN eta and varianceNoise of the wrong shape', () => {
    const scheduler = new DDIMScheduler();
    scheduler.setTimesteps(10);
    const input = x();
    const small = tf.ones([1, 2, 2, 1]);
    expect(() => scheduler.step(input, 900, input, { eta: Number.NaN })).toThrow(/eta must be a finite number/);
    expect(() => scheduler.step(input, 900, input, { eta: 1, varianceNoise: small })).toThrow(/varianceNoise shape/);
    tf.dispose([input, small]);
  });

  it('DDPM: learned variance needs 2C channels on the last axis', () => {
    const scheduler = new DDPMScheduler({ varianceType: 'learned_range' });
    const input = x();
    expect(() => scheduler.step(input, 5, input)).toThrow(/needs a model output of shape \[1, 2, 2, 6\]/);
    input.dispose();
  });

  it('unknown betaSchedule, predictionType, timestepSpacing, _class_name', () => {
    expect(() => new DDPMScheduler({ betaSchedule: 'cubic' as never })).toThrow(/betaSchedule' has unknown value 'cubic'/);
    expect(() => DDIMScheduler.fromConfig({ prediction_type: 'noise' })).toThrow(/prediction_type' has unknown value 'noise'/);
    expect(() => PNDMScheduler.fromConfig({ prediction_type: 'sample' })).toThrow(/prediction_type' has unknown value 'sample'/);
    expect(() => DDIMScheduler.fromConfig({ timestep_spacing: 'even' })).toThrow(/timestep_spacing' has unknown value 'even'/);
    expect(() => DDIMScheduler.fromConfig({ beta_schedule: 'sigmoid' })).toThrow(
      /betaSchedule 'sigmoid' is not implemented for DDIMScheduler/,
    );
    expect(() => schedulerFromConfig({ _class_name: 'FancyScheduler' })).toThrow(/unknown scheduler _class_name 'FancyScheduler'/);
    expect(() => DDIMScheduler.fromConfig({ _class_name: 'UNet2DModel' })).toThrow(/cannot build from a config of 'UNet2DModel'/);
    expect(() => schedulerFromConfig({ num_train_timesteps: 10 })).toThrow(/no '_class_name'/);
    expect(() => new DDPMScheduler({ numTrainTimesteps: 3, trainedBetas: [0.1, 0.2] })).toThrow(
      /trainedBetas has 2 values but numTrainTimesteps is 3/,
    );
    expect(() => new DDPMScheduler({ betaStart: Number.NaN })).toThrow(/beta_start|betaStart/);
  });
});
