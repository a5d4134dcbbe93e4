import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { coefficientsOf } from './coefficients.js';
import { pMeanVariance } from './p-mean-variance.js';
import { ErrorLog, fixtureModel, maxRelativeError, nhwcValues, toNhwc } from './testing/fixtures.js';
import { diffusion, plainSchedule, schedules } from './testing/diffusion.js';

const TOLERANCE = 1e-5;

describe.each(testBackendNames())('pMeanVariance on %s', (backend) => {
  const log = new ErrorLog();
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => console.log(log.format(`[${backend}] losses.json`)));

  it.each(schedules())('matches p_mean_variance at every t, clipped and unclipped (%s)', (name, scheduler) => {
    const before = tf.memory().numTensors;
    for (const entry of diffusion.per_t) {
      const xt = toNhwc(entry.x_t);
      const t = tf.tensor1d([entry.t], 'int32');
      const output = fixtureModel(xt, t);
      for (const clip of [false, true]) {
        const expected = clip ? entry.clip_denoised_true : entry.clip_denoised_false;
        const result = pMeanVariance(output, xt, t, { scheduler, clipDenoised: clip });
        const suffix = `clip_denoised=${clip}, ${name}`;
        log.record(
          `p_mean_variance pred_xstart (${suffix})`,
          maxRelativeError(result.predXstart.dataSync(), nhwcValues(expected.pred_xstart)),
        );
        log.record(`p_mean_variance mean (${suffix})`, maxRelativeError(result.mean.dataSync(), nhwcValues(expected.p_mean)));
        log.record(
          `p_mean_variance log_variance (${suffix})`,
          maxRelativeError(result.logVariance.dataSync(), nhwcValues(expected.p_log_variance)),
        );
        tf.dispose(result);
      }
      tf.dispose([xt, t, output]);
    }
    expect(tf.memory().numTensors).toBe(before);
    for (const [key, error] of log.worst) if (key.includes(name)) expect(error, key).toBeLessThanOrEqual(TOLERANCE);
  });

  it('covers fixed_large, learned_range and the sample / v predictions', () => {
    const c = coefficientsOf(plainSchedule);
    const xt = tf.tensor4d([0.3, -0.2, 0.5, 0.1], [2, 1, 1, 2]);
    const before = tf.memory().numTensors;
    const t = [0, 5];
    const prediction = tf.tensor4d([0.2, 0.4, -0.6, 0.8], [2, 1, 1, 2]);
    // fixed_large: β̃_1 at t = 0, β_t elsewhere.
    const large = pMeanVariance(prediction, xt, t, { scheduler: plainSchedule, varianceType: 'fixed_large' });
    expect(Array.from(large.variance.dataSync())).toEqual(
      [c.posteriorVariance[1], c.posteriorVariance[1], c.betas[5], c.betas[5]].map(Math.fround),
    );
    expect(
      maxRelativeError(
        large.logVariance.dataSync(),
        [1, 1, 5, 5].map((s) => Math.log(s === 1 ? c.posteriorVariance[1] : c.betas[s])),
      ),
    ).toBeLessThan(1e-7);
    // sample prediction: x̂0 is the output itself (clipped).
    const sample = pMeanVariance(prediction, xt, t, { scheduler: plainSchedule, predictionType: 'sample' });
    expect(maxRelativeError(sample.predXstart.dataSync(), [0.2, 0.4, -0.6, 0.8])).toBeLessThan(1e-7);
    // v prediction: x̂0 = sqrt(ᾱ) x_t - sqrt(1 - ᾱ) v.
    const velocity = pMeanVariance(prediction, xt, t, { scheduler: plainSchedule, predictionType: 'v_prediction', clipDenoised: false });
    const xtValues = [0.3, -0.2, 0.5, 0.1];
    const pv = [0.2, 0.4, -0.6, 0.8];
    const expectedV = xtValues.map((x, i) => {
      const s = t[Math.floor(i / 2)];
      return Math.sqrt(c.alphasCumprod[s]) * x - Math.sqrt(1 - c.alphasCumprod[s]) * pv[i];
    });
    expect(maxRelativeError(velocity.predXstart.dataSync(), expectedV)).toBeLessThan(1e-6);
    // learned_range: v = -1 gives log β̃_t (clipped), v = 1 gives log β_t, v = 0 the midpoint.
    const varianceValues = tf.tensor4d([-1, 1, 0, 1], [2, 1, 1, 2]);
    const learnedOutput = tf.concat([prediction, varianceValues], 3);
    const learned = pMeanVariance(learnedOutput, xt, t, { scheduler: plainSchedule, varianceType: 'learned_range' });
    const expectedLog = [
      c.posteriorLogVarianceClipped[0],
      c.logBetas[0],
      (c.posteriorLogVarianceClipped[5] + c.logBetas[5]) / 2,
      c.logBetas[5],
    ];
    expect(maxRelativeError(learned.logVariance.dataSync(), expectedLog)).toBeLessThan(1e-6);
    const fixedMean = pMeanVariance(prediction, xt, t, { scheduler: plainSchedule });
    expect(Array.from(learned.mean.dataSync())).toEqual(Array.from(fixedMean.mean.dataSync()));
    tf.dispose([large, sample, velocity, varianceValues, learnedOutput, learned, fixedMean, prediction]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(xt);
  });

  it('rejects unknown types and mismatched shapes, naming the argument', () => {
    const xt = tf.zeros([1, 2, 2, 1]);
    const wide = tf.zeros([1, 2, 2, 2]);
    const before = tf.memory().numTensors;
    const scheduler = plainSchedule;
    expect(() => pMeanVariance(xt, xt, 0, { scheduler, varianceType: 'fixed_medium' as never })).toThrow(
      /unknown varianceType 'fixed_medium'/,
    );
    expect(() => pMeanVariance(xt, xt, 0, { scheduler, varianceType: 'learned' })).toThrow(/'learned' \(raw variance\) is not supported/);
    expect(() => pMeanVariance(xt, xt, 0, { scheduler, predictionType: 'noise' as never })).toThrow(/unknown predictionType 'noise'/);
    expect(() => pMeanVariance(wide, xt, 0, { scheduler })).toThrow(
      /modelOutput shape \[1, 2, 2, 2\] does not match xt shape \[1, 2, 2, 1\]/,
    );
    expect(() => pMeanVariance(xt, xt, 0, { scheduler, varianceType: 'learned_range' })).toThrow(
      /needs modelOutput of shape \[1, 2, 2, 2\]/,
    );
    expect(() => pMeanVariance(xt, xt, 0, { scheduler: { betas: [0.1] } as never })).toThrow(/scheduler: expected a DDPM scheduler/);
    expect(() => pMeanVariance(xt, tf.zeros([4]) as never, 0, { scheduler })).toThrow(/xt must have a batch axis/);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([xt, wide]);
  });
});
