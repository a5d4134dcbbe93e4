import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { PNDMScheduler } from './pndm.js';
import { loadFixture, recordError, worstErrors } from './testing/fixtures.js';
import { runLoop, type LoopFixture } from './testing/loop.js';
import { errorAgainst, referenceModel, tensorModel, wave } from './testing/inputs.js';
import { referencePndmLoop } from './testing/reference.js';

const fixture = loadFixture<LoopFixture>('pndm_loop_10.json');

describe.each(testBackendNames())('PNDMScheduler on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => {
    console.log(`[${backend}] pndm_loop_10.json max error: ${worstErrors.get(`pndm-${backend}`)?.toExponential(3)}`);
  });

  it.each(fixture.cases.map((entry) => [entry.name, entry] as const))('loop %s matches every prev_sample', (_, entry) => {
    const scheduler = PNDMScheduler.fromConfig(entry.scheduler_config);
    scheduler.setTimesteps(entry.num_inference_steps);
    expect(scheduler.timesteps).toEqual(entry.timesteps.data);
    const report = runLoop(scheduler, fixture, entry);
    recordError(`pndm-${backend}`, report.worst);
    expect(report.leaked).toBe(0);
    expect(report.worst).toBeLessThanOrEqual(1e-5);
  });

  it('refuses step before setTimesteps', () => {
    const scheduler = new PNDMScheduler();
    const x = tf.zeros([1, 2, 2, 1]);
    expect(() => scheduler.step(x, 999, x)).toThrow(/setTimesteps/);
    x.dispose();
  });
});

describe.each(testBackendNames())('PNDMScheduler beyond the fixtures on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  const shape = [2, 4, 4, 3];
  const cases: [string, Record<string, unknown>, number][] = [
    ['PRK warm-up then PLMS (skip_prk_steps false)', { skip_prk_steps: false }, 10],
    ['PRK with v_prediction and steps_offset 1', { skip_prk_steps: false, prediction_type: 'v_prediction', steps_offset: 1 }, 10],
    ['PLMS, trailing spacing, set_alpha_to_one', { skip_prk_steps: true, timestep_spacing: 'trailing', set_alpha_to_one: true }, 8],
    [
      'PLMS, linspace spacing, squaredcos_cap_v2',
      { skip_prk_steps: true, timestep_spacing: 'linspace', beta_schedule: 'squaredcos_cap_v2' },
      7,
    ],
  ];
  it.each(cases)("%s matches a float64 evaluation of Diffusers' formulas", (_, config, steps) => {
    const scheduler = PNDMScheduler.fromConfig(config);
    scheduler.setTimesteps(steps);
    const start = wave(96, 0.37, 0.1, 1.2);
    const expected = referencePndmLoop(
      scheduler.alphasCumprod,
      scheduler.finalAlphaCumprod,
      1000,
      steps,
      scheduler.prkTimesteps,
      scheduler.timesteps,
      scheduler.config.skipPrkSteps,
      scheduler.config.predictionType,
      start,
      referenceModel,
    );
    const before = tf.memory().numTensors;
    let sample = tf.tensor(Float32Array.from(start), shape);
    let worst = 0;
    scheduler.timesteps.forEach((t, i) => {
      const output = tensorModel(sample, t);
      const { prevSample, predOriginalSample } = scheduler.step(output, t, sample);
      worst = Math.max(worst, errorAgainst(prevSample, expected[i]));
      tf.dispose([output, predOriginalSample, sample]);
      sample = prevSample;
    });
    expect(tf.memory().numTensors).toBe(before + 1);
    sample.dispose();
    expect(worst).toBeLessThan(2e-5);
  });

  it('PRK timesteps for N = 10 follow Diffusers', () => {
    const scheduler = new PNDMScheduler({ skipPrkSteps: false });
    scheduler.setTimesteps(10);
    expect(scheduler.prkTimesteps).toEqual([900, 850, 850, 800, 800, 750, 750, 700, 700, 650, 650, 600]);
    expect(scheduler.plmsTimesteps).toEqual([600, 500, 400, 300, 200, 100, 0]);
  });

  it('trailing and linspace spacing', () => {
    const trailing = new PNDMScheduler({ skipPrkSteps: true, timestepSpacing: 'trailing' });
    trailing.setTimesteps(4);
    expect(trailing.timesteps).toEqual([999, 749, 749, 499, 249]);
    const linspace = new PNDMScheduler({ skipPrkSteps: true, timestepSpacing: 'linspace' });
    linspace.setTimesteps(7);
    expect(linspace.timesteps).toEqual([999, 832, 832, 666, 500, 333, 166, 0]);
  });

  it('frees its history on setTimesteps and dispose', () => {
    const scheduler = new PNDMScheduler({ skipPrkSteps: true });
    scheduler.setTimesteps(10);
    const before = tf.memory().numTensors;
    const x = tf.ones([1, 2, 2, 1]);
    for (const t of scheduler.timesteps.slice(0, 3)) {
      const result = scheduler.step(x, t, x);
      tf.dispose([result.prevSample, result.predOriginalSample]);
    }
    expect(tf.memory().numTensors).toBeGreaterThan(before + 1);
    scheduler.setTimesteps(10);
    expect(tf.memory().numTensors).toBe(before + 1);
    x.dispose();
  });

  it('refuses PLMS before the PRK steps and steps past the end', () => {
    const scheduler = new PNDMScheduler({ skipPrkSteps: true });
    scheduler.setTimesteps(2);
    const x = tf.ones([1, 2, 2, 1]);
    for (const t of scheduler.timesteps) {
      const result = scheduler.step(x, t, x);
      tf.dispose([result.prevSample, result.predOriginalSample]);
    }
    expect(() => scheduler.step(x, 0, x)).toThrow(/scheduled steps are done/);
    x.dispose();
  });
});
