import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { DDIMScheduler } from './ddim.js';
import { loadFixture, recordError, worstErrors } from './testing/fixtures.js';
import { runLoop, type LoopFixture } from './testing/loop.js';
import { errorAgainst, referenceModel, tensorModel, wave } from './testing/inputs.js';
import { referenceDdimStep, type ReferenceDdim } from './testing/reference.js';

const fixture = loadFixture<LoopFixture>('ddim_loop_10.json');

describe.each(testBackendNames())('DDIMScheduler on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => {
    console.log(`[${backend}] ddim_loop_10.json max error: ${worstErrors.get(`ddim-${backend}`)?.toExponential(3)}`);
  });

  it.each(fixture.cases.map((entry) => [entry.name, entry] as const))('loop %s matches every prev_sample', (_, entry) => {
    const scheduler = DDIMScheduler.fromConfig(entry.scheduler_config);
    scheduler.setTimesteps(entry.num_inference_steps);
    expect(scheduler.timesteps).toEqual(entry.timesteps.data);
    const report = runLoop(scheduler, fixture, entry);
    recordError(`ddim-${backend}`, report.worst);
    expect(report.leaked).toBe(0);
    expect(report.worst).toBeLessThanOrEqual(1e-5);
    expect(report.worstPredOriginalSum).toBeLessThan(1e-4);
  });

  it('refuses step before setTimesteps', () => {
    const scheduler = new DDIMScheduler();
    const x = tf.zeros([1, 2, 2, 1]);
    expect(() => scheduler.step(x, 999, x)).toThrow(/setTimesteps/);
    x.dispose();
  });
});

describe.each(testBackendNames())('DDIMScheduler options beyond the fixtures on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  const shape = [2, 4, 4, 3];
  const size = 96;
  const cases: [string, Record<string, unknown>, { eta?: number; useClippedModelOutput?: boolean; steps?: number }][] = [
    ['v_prediction, trailing', { prediction_type: 'v_prediction', timestep_spacing: 'trailing', clip_sample: false }, {}],
    [
      'sample prediction, dynamic thresholding',
      { prediction_type: 'sample', thresholding: true, dynamic_thresholding_ratio: 0.9, sample_max_value: 1.5 },
      {},
    ],
    ['eta 0.7 with explicit noise', { clip_sample: true }, { eta: 0.7 }],
    [
      'eta 1, useClippedModelOutput, clip range 0.5',
      { prediction_type: 'sample', clip_sample_range: 0.5 },
      { eta: 1, useClippedModelOutput: true },
    ],
    [
      'linspace spacing (prev = t - T // N), set_alpha_to_one false',
      { timestep_spacing: 'linspace', set_alpha_to_one: false },
      { steps: 7 },
    ],
    [
      'zero SNR, v_prediction, trailing, scaled_linear',
      {
        rescale_betas_zero_snr: true,
        prediction_type: 'v_prediction',
        timestep_spacing: 'trailing',
        beta_schedule: 'scaled_linear',
        beta_start: 0.00085,
        beta_end: 0.012,
        clip_sample: false,
      },
      {},
    ],
  ];
  it.each(cases)("%s matches a float64 evaluation of Diffusers' formulas", (_, config, extra) => {
    const scheduler = DDIMScheduler.fromConfig(config);
    scheduler.setTimesteps(extra.steps ?? 10);
    const eta = extra.eta ?? 0;
    const reference: ReferenceDdim = {
      alphasCumprod: scheduler.alphasCumprod,
      finalAlphaCumprod: scheduler.finalAlphaCumprod,
      stride: Math.floor(1000 / (extra.steps ?? 10)),
      predictionType: scheduler.config.predictionType,
      clip: scheduler.config.clipSample ? scheduler.config.clipSampleRange : undefined,
      threshold: scheduler.config.thresholding ? { batch: 2, ratio: 0.9, maxValue: 1.5 } : undefined,
      eta,
      useClipped: extra.useClippedModelOutput ?? false,
    };
    let expected = wave(size, 0.37, 0.1, 1.8);
    let sample = tf.tensor(Float32Array.from(expected), shape);
    let worst = 0;
    let worstX0 = 0;
    for (const t of scheduler.timesteps) {
      const noiseValues = wave(size, 0.91, t / 7);
      const out = referenceDdimStep(reference, referenceModel(expected, t), t, expected, noiseValues);
      const output = tensorModel(sample, t);
      const noise = tf.tensor(Float32Array.from(noiseValues), shape);
      const { prevSample, predOriginalSample } = scheduler.step(output, t, sample, {
        eta,
        varianceNoise: noise,
        useClippedModelOutput: extra.useClippedModelOutput,
      });
      worst = Math.max(worst, errorAgainst(prevSample, out.prevSample));
      worstX0 = Math.max(worstX0, errorAgainst(predOriginalSample, out.x0));
      tf.dispose([output, noise, predOriginalSample, sample]);
      sample = prevSample;
      expected = out.prevSample;
    }
    sample.dispose();
    expect(worst).toBeLessThan(2e-5);
    expect(worstX0).toBeLessThan(2e-5);
  });

  it('linspace spacing gives 166 and 832 for N = 7', () => {
    const scheduler = new DDIMScheduler({ timestepSpacing: 'linspace' });
    scheduler.setTimesteps(7);
    expect(scheduler.timesteps).toEqual([999, 832, 666, 500, 333, 166, 0]);
  });

  it('eta > 0 draws from the generator, reproducibly', () => {
    const scheduler = new DDIMScheduler();
    scheduler.setTimesteps(10);
    const makeGenerator = () => {
      let state = 1;
      return {
        normal: (count: number) => Float32Array.from({ length: count }, () => (state = (state * 48271) % 2147483647) / 2147483647 - 0.5),
      };
    };
    const x = tf.tensor(Float32Array.from(wave(96, 0.3, 0.2)), shape);
    const a = scheduler.step(x, 900, x, { eta: 1, generator: makeGenerator() });
    const b = scheduler.step(x, 900, x, { eta: 1, generator: makeGenerator() });
    const deterministic = scheduler.step(x, 900, x);
    expect(Array.from(a.prevSample.dataSync())).toEqual(Array.from(b.prevSample.dataSync()));
    expect(Array.from(a.prevSample.dataSync())).not.toEqual(Array.from(deterministic.prevSample.dataSync()));
    tf.dispose([
      x,
      a.prevSample,
      a.predOriginalSample,
      b.prevSample,
      b.predOriginalSample,
      deterministic.prevSample,
      deterministic.predOriginalSample,
    ]);
  });
});
