import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, testBackendNames } from '@diffusion-ts/core';
import { DDPMScheduler } from './ddpm.js';
import { loadFixture, recordError, toTensor, worstErrors, type FixtureArray } from './testing/fixtures.js';
import { runLoop, type LoopFixture } from './testing/loop.js';

const fixture = loadFixture<LoopFixture & { noise_by_t: Record<string, FixtureArray> }>('ddpm_loop_10_noise_rule.json');

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
    const noises = Object.fromEntries(Object.entries(fixture.noise_by_t).map(([t, array]) => [t, toTensor(array)]));
    const report = runLoop(scheduler, fixture, entry, (t) => ({ varianceNoise: noises[String(t)] }));
    tf.dispose(Object.values(noises));
    recordError(`ddpm-${backend}`, report.worst);
    expect(report.leaked).toBe(0);
    expect(report.worst).toBeLessThanOrEqual(1e-5);
    expect(report.worstPredOriginalSum).toBeLessThan(1e-4);
  });
});
