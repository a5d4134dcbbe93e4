import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, testBackendNames } from '@diffusion-ts/core';
import { DDPMScheduler } from './ddpm.js';
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

interface LoopCase {
  name: string;
  scheduler_config: Record<string, unknown>;
  num_inference_steps: number;
  timesteps: FixtureArray;
  steps: { t: number; prev_sample: FixtureArray; pred_original_sample_stats: { sum_float64: number } }[];
}
interface DdpmFixture {
  sample0_array: FixtureArray;
  sample0_wide_array: FixtureArray;
  cases: (LoopCase & { sample0: string })[];
  noise_by_t: Record<string, FixtureArray>;
}

const fixture = loadFixture<DdpmFixture>('ddpm_loop_10_noise_rule.json');

describe.each(testBackendNames())('DDPMScheduler on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => {
    console.log(`[${backend}] ddpm_loop_10_noise_rule.json max error: ${worstErrors.get(`ddpm-${backend}`)?.toExponential(3)}`);
  });

  it.each(fixture.cases.map((entry) => [entry.name, entry] as const))('loop %s matches every prev_sample', (_, entry) => {
    const scheduler = DDPMScheduler.fromConfig(entry.scheduler_config as Record<string, never>);
    scheduler.setTimesteps(entry.num_inference_steps);
    expect(scheduler.timesteps).toEqual(entry.timesteps.data);
    const start = toTensor(entry.sample0.includes('wide') ? fixture.sample0_wide_array : fixture.sample0_array);
    const noises = Object.fromEntries(Object.entries(fixture.noise_by_t).map(([t, array]) => [t, toTensor(array)]));
    const before = tf.memory().numTensors;
    let sample = start;
    let worst = 0;
    entry.steps.forEach((expected, i) => {
      const t = scheduler.timesteps[i];
      expect(t).toBe(expected.t);
      const output = dummyModel(sample, t);
      const { prevSample, predOriginalSample } = scheduler.step(output, t, sample, { varianceNoise: noises[String(t)] });
      const x0Sum = predOriginalSample.dataSync().reduce((a, b) => a + b, 0);
      expect(Math.abs(x0Sum - expected.pred_original_sample_stats.sum_float64)).toBeLessThan(1e-3);
      worst = Math.max(worst, maxMixedError(prevSample.dataSync(), float32Values(expected.prev_sample)));
      tf.dispose([output, predOriginalSample]);
      if (sample !== start) sample.dispose();
      sample = prevSample;
    });
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([sample, start, ...Object.values(noises)]);
    recordError(`ddpm-${backend}`, worst);
    expect(worst).toBeLessThanOrEqual(1e-5);
  });
});
