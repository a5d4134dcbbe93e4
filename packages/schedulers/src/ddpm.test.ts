import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { DDPMScheduler } from './ddpm.js';
import { loadFixture, recordError, toTensor, worstErrors, type FixtureArray } from './testing/fixtures.js';
import { runLoop, type LoopFixture } from './testing/loop.js';
import { errorAgainst, referenceModel, tensorModel, wave } from './testing/inputs.js';
import { referenceDdpmStep } from './testing/reference.js';

const fixture = loadFixture<LoopFixture & { noise_by_t: Record<string, FixtureArray> }>('ddpm_loop_10_noise_rule.json');

describe.each(testBackendNames())('DDPMScheduler on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => {
    console.log(`[${backend}] ddpm_loop_10_noise_rule.json max error: ${worstErrors.get(`ddpm-${backend}`)?.toExponential(3)}`);
  });

  it.each(fixture.cases.map((entry) => [entry.name, entry] as const))('loop %s matches every prev_sample', (_, entry) => {
    const scheduler = DDPMScheduler.fromConfig(entry.scheduler_config);
    scheduler.setTimesteps(entry.num_inference_steps);
    expect(scheduler.timesteps).toEqual(entry.timesteps.data);
    const noises = Object.fromEntries(Object.entries(fixture.noise_by_t).map(([t, array]) => [t, toTensor(array)]));
    const report = runLoop(scheduler, fixture, entry, (t) => ({ varianceNoise: noises[String(t)] }));
    tf.dispose(Object.values(noises));
    recordError(`ddpm-${backend}`, report.worst);
    expect(report.leaked).toBe(0);
    expect(report.worst).toBeLessThanOrEqual(1e-5);
    expect(report.worstPredOriginalSum).toBeLessThan(1e-4);
  });
});

describe.each(testBackendNames())('DDPMScheduler options beyond the fixtures on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  const shape = [2, 4, 4, 3];
  const size = 96;
  const cases: [string, Record<string, unknown>, number | null][] = [
    ['v_prediction, trailing, no clipping', { prediction_type: 'v_prediction', timestep_spacing: 'trailing', clip_sample: false }, 10],
    ['fixed_large, linspace spacing', { variance_type: 'fixed_large', timestep_spacing: 'linspace' }, 7],
    ['fixed_small_log, steps_offset 1', { variance_type: 'fixed_small_log', steps_offset: 1 }, 10],
    ['learned_range (2C channels on the last axis)', { variance_type: 'learned_range' }, 10],
    [
      'learned (2C channels on the last axis), sample prediction',
      { variance_type: 'learned', prediction_type: 'sample', clip_sample_range: 0.8 },
      10,
    ],
    [
      'zero SNR, v_prediction, sigmoid betas, trailing',
      {
        rescale_betas_zero_snr: true,
        prediction_type: 'v_prediction',
        beta_schedule: 'sigmoid',
        timestep_spacing: 'trailing',
        clip_sample: false,
      },
      10,
    ],
  ];
  it.each(cases)("%s matches a float64 evaluation of Diffusers' formulas", (_, config, steps) => {
    const scheduler = DDPMScheduler.fromConfig(config);
    if (steps !== null) scheduler.setTimesteps(steps);
    const learned = scheduler.config.varianceType.startsWith('learned');
    let expected = wave(size, 0.37, 0.1, 1.8);
    let sample = tf.tensor(Float32Array.from(expected), shape);
    let worst = 0;
    let worstX0 = 0;
    scheduler.timesteps.forEach((t, i) => {
      const prev = scheduler.timesteps[i + 1] ?? -1;
      const noiseValues = wave(size, 0.91, t / 7);
      const modelValues = referenceModel(expected, t);
      // learned: σ² in (0, 0.5); learned_range: v in [-1, 1].
      const varianceValues = wave(size, 0.53, t / 3).map((v) => (scheduler.config.varianceType === 'learned' ? 0.25 + 0.2 * v : v));
      const out = referenceDdpmStep(
        scheduler.alphasCumprod,
        scheduler.config.predictionType,
        scheduler.config.varianceType,
        modelValues,
        varianceValues,
        t,
        prev,
        expected,
        noiseValues,
        scheduler.config.clipSample ? scheduler.config.clipSampleRange : undefined,
      );
      const output = tf.tidy(() => {
        const prediction = tensorModel(sample, t);
        return learned ? tf.concat([prediction, tf.tensor(Float32Array.from(varianceValues), shape)], 3) : prediction;
      });
      const noise = tf.tensor(Float32Array.from(noiseValues), shape);
      const { prevSample, predOriginalSample } = scheduler.step(output, t, sample, { varianceNoise: noise });
      worst = Math.max(worst, errorAgainst(prevSample, out.prevSample));
      worstX0 = Math.max(worstX0, errorAgainst(predOriginalSample, out.x0));
      tf.dispose([output, noise, predOriginalSample, sample]);
      sample = prevSample;
      expected = out.prevSample;
    });
    sample.dispose();
    expect(worst).toBeLessThan(2e-5);
    expect(worstX0).toBeLessThan(2e-5);
  });

  it('defaults to every training timestep, stepping t -> t - 1', () => {
    const scheduler = new DDPMScheduler({ numTrainTimesteps: 20, clipSample: false });
    expect(scheduler.timesteps).toEqual(Array.from({ length: 20 }, (_, i) => 19 - i));
    expect(scheduler.numInferenceSteps).toBeNull();
    const values = wave(96, 0.2, 0.3);
    const noiseValues = wave(96, 0.7, 0.1);
    const x = tf.tensor(Float32Array.from(values), shape);
    const noise = tf.tensor(Float32Array.from(noiseValues), shape);
    const { prevSample, predOriginalSample } = scheduler.step(x, 7, x, { varianceNoise: noise });
    const out = referenceDdpmStep(scheduler.alphasCumprod, 'epsilon', 'fixed_small', values, null, 7, 6, values, noiseValues);
    expect(errorAgainst(prevSample, out.prevSample)).toBeLessThan(1e-6);
    tf.dispose([x, noise, prevSample, predOriginalSample]);
  });

  it('draws noise from the generator only when t > 0', () => {
    const scheduler = new DDPMScheduler();
    scheduler.setTimesteps(10);
    let draws = 0;
    const generator = {
      normal: (count: number) => {
        draws += 1;
        return new Float32Array(count).fill(0.5);
      },
    };
    const x = tf.ones([1, 2, 2, 3]);
    for (const t of [100, 0]) {
      const result = scheduler.step(x, t, x, { generator });
      tf.dispose([result.prevSample, result.predOriginalSample]);
    }
    expect(draws).toBe(1);
    x.dispose();
  });
});
