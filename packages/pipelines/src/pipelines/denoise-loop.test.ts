import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { Generator, initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { DDIMScheduler, PNDMScheduler } from '@diffusion-ts/schedulers';
import { denoiseLoop, runDenoisingLoop } from './denoise-loop.js';

const start = (): tf.Tensor4D => tf.tidy(() => tf.fill([1, 4, 4, 1], 0.5) as tf.Tensor4D);
const shrink = (sample: tf.Tensor4D): tf.Tensor4D => tf.mul(sample, 0.1);

describe.each(testBackendNames())('denoise loop on %s', (backend) => {
  beforeAll(() => initBackend(backend));

  it('runs every timestep, reports each step and leaks nothing', async () => {
    const scheduler = new DDIMScheduler();
    scheduler.setTimesteps(4);
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const result = await denoiseLoop({
      scheduler,
      start: start(),
      timesteps: scheduler.timesteps,
      predict: shrink,
      onStep: (_, t) => void seen.push(t),
    });
    expect(seen).toEqual(scheduler.timesteps);
    expect(result.shape).toEqual([1, 4, 4, 1]);
    result.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("frees its sample but leaves the caller's scheduler alone when a step throws", async () => {
    const scheduler = new DDIMScheduler();
    scheduler.setTimesteps(5);
    const dispose = vi.spyOn(scheduler, 'dispose');
    const before = tf.memory().numTensors;
    let calls = 0;
    const failing = (sample: tf.Tensor4D): tf.Tensor4D => {
      calls += 1;
      if (calls === 3) throw new Error('model failed');
      return shrink(sample);
    };
    await expect(denoiseLoop({ scheduler, start: start(), timesteps: scheduler.timesteps, predict: failing })).rejects.toThrow(
      'model failed',
    );
    expect(dispose).not.toHaveBeenCalled();
    expect(tf.memory().numTensors).toBe(before);
    // The scheduler still works.
    const again = await denoiseLoop({ scheduler, start: start(), timesteps: scheduler.timesteps, predict: shrink });
    again.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops on abort without disposing a PNDM scheduler; the next run resets its history', async () => {
    const scheduler = new PNDMScheduler({ skipPrkSteps: true });
    const dispose = vi.spyOn(scheduler, 'dispose');
    const before = tf.memory().numTensors;
    scheduler.setTimesteps(6);
    dispose.mockClear();
    const controller = new AbortController();
    const run = runDenoisingLoop(
      start(),
      scheduler.timesteps,
      { signal: controller.signal, onStep: (index) => (index === 2 ? controller.abort() : undefined) },
      (sample, t) => scheduler.step(shrink(sample), t, sample, { generator: new Generator(1) }).prevSample,
    );
    await expect(run).rejects.toThrow(/abort/i);
    expect(dispose).not.toHaveBeenCalled();
    // PNDM keeps its step history until the next setTimesteps (or dispose), which frees it.
    scheduler.setTimesteps(6);
    expect(tf.memory().numTensors).toBe(before);
  });
});
