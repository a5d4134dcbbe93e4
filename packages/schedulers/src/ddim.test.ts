import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, testBackendNames } from '@diffusion-ts/core';
import { DDIMScheduler } from './ddim.js';
import { loadFixture, recordError, worstErrors } from './testing/fixtures.js';
import { runLoop, type LoopFixture } from './testing/loop.js';

const fixture = loadFixture<LoopFixture>('ddim_loop_10.json');

describe.each(testBackendNames())('DDIMScheduler on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => {
    console.log(`[${backend}] ddim_loop_10.json max error: ${worstErrors.get(`ddim-${backend}`)?.toExponential(3)}`);
  });

  it.each(fixture.cases.map((entry) => [entry.name, entry] as const))('loop %s matches every prev_sample', (_, entry) => {
    const scheduler = DDIMScheduler.fromConfig(entry.scheduler_config as Record<string, never>);
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
