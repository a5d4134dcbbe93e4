import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { DDIMScheduler } from './ddim.js';
import { DDPMScheduler } from './ddpm.js';
import { SCHEDULERS as REGISTERED } from './registry.js';
import type { BetaScheduler, Scheduler } from './scheduler.js';

/** Every registered scheduler, built with its defaults. */
const SCHEDULERS: [string, () => Scheduler][] = Object.values(REGISTERED).map((Class) => [Class.className, () => Class.fromConfig({})]);

describe.each(testBackendNames())('input checks on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it.each(SCHEDULERS)('%s.step names a disposed or non-tensor argument', (className, make) => {
    const scheduler = make();
    scheduler.setTimesteps(10);
    const t = scheduler.timesteps[0];
    const live = tf.ones([1, 2, 2, 3]);
    const gone = tf.ones([1, 2, 2, 3]);
    gone.dispose();
    const before = tf.memory().numTensors;
    expect(() => scheduler.step(gone, t, live)).toThrow(new TypeError(`${className}.step: modelOutput has been disposed`));
    expect(() => scheduler.step(live, t, gone)).toThrow(new TypeError(`${className}.step: sample has been disposed`));
    expect(() => scheduler.step([1, 2] as never, t, live)).toThrow(
      new TypeError(`${className}.step: modelOutput must be a tf.Tensor, got an array`),
    );
    expect(() => scheduler.step(live, t, undefined as never)).toThrow(
      new TypeError(`${className}.step: sample must be a tf.Tensor, got undefined`),
    );
    expect(tf.memory().numTensors).toBe(before);
    live.dispose();
  });

  it.each(SCHEDULERS)('%s.addNoise / getVelocity name a disposed argument', (className, make) => {
    const scheduler = make();
    scheduler.setTimesteps(10);
    const t = scheduler.timesteps[0];
    const live = tf.ones([2, 2, 2, 1]);
    const gone = tf.ones([2, 2, 2, 1]);
    const goneSteps = tf.tensor1d([1, 2], 'int32');
    tf.dispose([gone, goneSteps]);
    const before = tf.memory().numTensors;
    expect(() => scheduler.addNoise(gone, live, t)).toThrow(new TypeError(`${className}.addNoise: originalSamples has been disposed`));
    expect(() => scheduler.addNoise(live, gone, t)).toThrow(new TypeError(`${className}.addNoise: noise has been disposed`));
    expect(() => scheduler.addNoise(live, live, goneSteps)).toThrow(new TypeError(`${className}.addNoise: timesteps has been disposed`));
    if ('getVelocity' in scheduler) {
      const beta = scheduler as BetaScheduler;
      expect(() => beta.getVelocity(gone, live, 5)).toThrow(new TypeError(`${className}.getVelocity: sample has been disposed`));
      expect(() => beta.getVelocity(live, gone, 5)).toThrow(new TypeError(`${className}.getVelocity: noise has been disposed`));
    }
    expect(tf.memory().numTensors).toBe(before);
    live.dispose();
  });

  it('DDPM: a disposed varianceNoise, and a disposed output with learned variance', () => {
    const live = tf.ones([1, 2, 2, 3]);
    const gone = tf.ones([1, 2, 2, 3]);
    gone.dispose();
    const ddpm = new DDPMScheduler();
    expect(() => ddpm.step(live, 5, live, { varianceNoise: gone })).toThrow(
      new TypeError('DDPMScheduler.step: varianceNoise has been disposed'),
    );
    const learned = new DDPMScheduler({ varianceType: 'learned_range' });
    expect(() => learned.step(gone, 5, live)).toThrow(new TypeError('DDPMScheduler.step: modelOutput has been disposed'));
    const ddim = new DDIMScheduler();
    ddim.setTimesteps(10);
    expect(() => ddim.step(live, 900, live, { eta: 1, varianceNoise: gone })).toThrow(
      /DDIMScheduler.step: varianceNoise has been disposed/,
    );
    live.dispose();
  });

  it('timesteps: a 0-D tensor, a tensor of one per item, and values outside the schedule', () => {
    const scheduler = new DDPMScheduler();
    const x = tf.ones([2, 1, 1, 1]);
    const noise = tf.zeros([2, 1, 1, 1]);
    const scalarStep = tf.scalar(10, 'int32');
    const perItem = tf.tensor1d([10, 500], 'float32');
    const outside = tf.tensor1d([10, 1000], 'int32');
    const matrix = tf.tensor2d([[1, 2]]);
    const before = tf.memory().numTensors;
    const a = scheduler.addNoise(x, noise, scalarStep);
    const b = scheduler.addNoise(x, noise, perItem);
    expect(Array.from(a.dataSync())).toEqual([
      Math.fround(Math.sqrt(scheduler.alphasCumprod[10])),
      Math.fround(Math.sqrt(scheduler.alphasCumprod[10])),
    ]);
    expect(b.dataSync()[1]).toBe(Math.fround(Math.sqrt(scheduler.alphasCumprod[500])));
    expect(() => scheduler.addNoise(x, noise, outside)).toThrow(/DDPMScheduler.addNoise: timestep 1000 is not an integer in \[0, 1000\)/);
    expect(() => scheduler.addNoise(x, noise, matrix as never)).toThrow(/timesteps tensor must be 0-D or 1-D/);
    tf.dispose([a, b]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, noise, scalarStep, perItem, outside, matrix]);
  });
});
