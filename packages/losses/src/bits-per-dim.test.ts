import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { bitsPerDim, priorBpd } from './bits-per-dim.js';
import { ErrorLog, fixtureModel, maxRelativeError, toNhwc } from './testing/fixtures.js';
import { diffusion, plainSchedule, schedules } from './testing/diffusion.js';

const TOLERANCE = 1e-5;
const loop = diffusion.calc_bpd_loop_clip_denoised_true;

describe.each(testBackendNames())('bits per dimension on %s', (backend) => {
  const log = new ErrorLog();
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => console.log(log.format(`[${backend}] losses.json`)));

  it.each(schedules())('priorBpd matches _prior_bpd (%s)', (name, scheduler) => {
    const x0 = toNhwc(diffusion.x_start);
    const before = tf.memory().numTensors;
    const prior = priorBpd(scheduler, x0);
    const error = log.record(`prior_bpd (${name})`, maxRelativeError(prior.dataSync(), [diffusion.prior_bpd]));
    prior.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
    expect(error).toBeLessThanOrEqual(TOLERANCE);
  });

  it.each(schedules())('bitsPerDim matches calc_bpd_loop column by column (%s)', (name, scheduler) => {
    const x0 = toNhwc(diffusion.x_start);
    const noise = toNhwc(diffusion.noise);
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const seen: number[] = [];
    const model = (xt: tf.Tensor, t: tf.Tensor1D) => {
      seen.push(t.dataSync()[0]);
      return fixtureModel(xt, t);
    };
    const result = bitsPerDim(model, scheduler, x0, { noise, onProgress: (done, total) => progress.push(done / total) });
    expect(seen).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(progress.at(-1)).toBe(1);
    expect(result.vb.shape).toEqual([1, 10]);
    const errors = {
      total_bpd: maxRelativeError(result.totalBpd.dataSync(), [loop.total_bpd]),
      prior_bpd: maxRelativeError(result.priorBpd.dataSync(), [loop.prior_bpd]),
      vb: maxRelativeError(result.vb.dataSync(), loop.vb.data),
      xstart_mse: maxRelativeError(result.xstartMse.dataSync(), loop.xstart_mse.data),
      mse: maxRelativeError(result.mse.dataSync(), loop.mse.data),
    };
    tf.dispose(result);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x0, noise]);
    for (const [key, error] of Object.entries(errors)) {
      log.record(`calc_bpd_loop ${key} (${name})`, error);
      expect(error, key).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('draws fresh noise per timestep from a generator, and validates its inputs', () => {
    const x0 = toNhwc(diffusion.x_start);
    const before = tf.memory().numTensors;
    let draws = 0;
    const generator = {
      normal(count: number) {
        draws += 1;
        return Float32Array.from({ length: count }, (_, k) => Math.sin(1.3 * k + 0.7 + draws));
      },
    };
    const result = bitsPerDim(fixtureModel, plainSchedule, x0, { generator });
    expect(draws).toBe(10);
    expect(Array.from(result.vb.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose(result);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => bitsPerDim(fixtureModel, plainSchedule, x0)).toThrow(/give options.noise .* or options.generator/);
    const wrongNoise = tf.zeros([1, 4, 4, 2]);
    expect(() => bitsPerDim(fixtureModel, plainSchedule, x0, { noise: wrongNoise })).toThrow(
      /noise shape \[1, 4, 4, 2\] does not match x0/,
    );
    expect(() => bitsPerDim((xt) => tf.concat([xt, xt], 3), plainSchedule, x0, { noise: x0 })).toThrow(
      /model output at t = 9.*modelOutput shape \[1, 4, 4, 2\] does not match xt/,
    );
    const bright = tf.fill([1, 4, 4, 1], 2);
    expect(() => bitsPerDim(fixtureModel, plainSchedule, bright, { noise: x0 })).toThrow(/bitsPerDim: x0 must lie in \[-1, 1\]/);
    tf.dispose([wrongNoise, bright]);
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
  });
});
