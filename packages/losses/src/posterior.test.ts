import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { DDPMScheduler, geometricBetas } from '@diffusion-ts/schedulers';
import { coefficientsOf, deriveCoefficients } from './coefficients.js';
import { qPosteriorMeanVariance, qSample } from './posterior.js';
import { ErrorLog, maxRelativeError, nhwcValues, toNhwc } from './testing/fixtures.js';
import { diffusion, plainSchedule, realScheduler, schedules } from './testing/diffusion.js';

const TOLERANCE = 1e-5;

describe('float64 coefficients', () => {
  it("match improved-diffusion's derived_float64 arrays", () => {
    const c = coefficientsOf(plainSchedule);
    const derived = diffusion.derived_float64;
    const pairs: [string, Float64Array][] = [
      ['alphas_cumprod', c.alphasCumprod],
      ['alphas_cumprod_prev', c.alphasCumprodPrev],
      ['posterior_variance', c.posteriorVariance],
      ['posterior_log_variance_clipped', c.posteriorLogVarianceClipped],
      ['posterior_mean_coef1', c.posteriorMeanCoef1],
      ['posterior_mean_coef2', c.posteriorMeanCoef2],
    ];
    for (const [name, values] of pairs) expect(maxRelativeError(values, derived[name].data), name).toBeLessThanOrEqual(1e-15);
  });

  it("are derived from a DDPMScheduler's float64 trainedBetas, not its float32 alphasCumprod", () => {
    const scheduler = realScheduler();
    const c = coefficientsOf(scheduler);
    expect(coefficientsOf(scheduler)).toBe(c);
    expect(Array.from(c.alphasCumprod)).toEqual(diffusion.derived_float64.alphas_cumprod.data);
    expect(Math.abs(1 - scheduler.alphasCumprod[0] - c.oneMinusAlphasCumprod[0]) / c.oneMinusAlphasCumprod[0]).toBeGreaterThan(1e-4);
    // Without trainedBetas (or when they no longer produce `betas`), the float32 betas are used.
    const plain = { betas: scheduler.betas, config: { numTrainTimesteps: 10, trainedBetas: [...diffusion.betas.data.slice(0, 9), 0.5] } };
    const fromBetas = coefficientsOf(plain);
    expect(Array.from(fromBetas.betas)).toEqual(Array.from(scheduler.betas));
    expect(
      maxRelativeError(
        fromBetas.oneMinusAlphasCumprod,
        diffusion.derived_float64.alphas_cumprod.data.map((a) => 1 - a),
      ),
    ).toBeLessThan(1e-6);
  });

  it('accept the geometric beta schedule (a DDPMScheduler with beta_schedule geometric)', () => {
    const scheduler = new DDPMScheduler({ numTrainTimesteps: 10, betaSchedule: 'geometric', betaStart: 1e-3, betaEnd: 0.2 });
    const c = coefficientsOf(scheduler);
    expect(Array.from(c.betas)).toEqual(Array.from(geometricBetas(1e-3, 0.2, 10)));
    let product = 1;
    c.betas.forEach((beta, t) => {
      product *= 1 - beta;
      expect(c.alphasCumprod[t]).toBeCloseTo(product, 15);
    });
  });

  it('reject bad schedules', () => {
    expect(() => deriveCoefficients(Float64Array.from([0.1, 1.5]))).toThrow(/betas\[1\] = 1.5 is not in \(0, 1\]/);
    expect(() => coefficientsOf({ betas: new Float64Array([0.1, 0.2]), config: { numTrainTimesteps: 3 } })).toThrow(
      /numTrainTimesteps \(3\) does not match betas.length \(2\)/,
    );
    expect(() => coefficientsOf({} as never)).toThrow(/scheduler: expected a DDPM scheduler/);
  });
});

describe.each(testBackendNames())('q_sample and q_posterior on %s', (backend) => {
  const log = new ErrorLog();
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => console.log(log.format(`[${backend}] losses.json`)));

  it.each(schedules())('match every t (%s)', (name, scheduler) => {
    const x0 = toNhwc(diffusion.x_start);
    const noise = toNhwc(diffusion.noise);
    const before = tf.memory().numTensors;
    for (const entry of diffusion.per_t) {
      const xt = qSample(scheduler, x0, noise, entry.t);
      log.record(`q_sample (${name})`, maxRelativeError(xt.dataSync(), nhwcValues(entry.x_t)));
      const fixtureXt = toNhwc(entry.x_t);
      const posterior = qPosteriorMeanVariance(scheduler, x0, fixtureXt, [entry.t]);
      log.record(`q_posterior_mean (${name})`, maxRelativeError(posterior.mean.dataSync(), nhwcValues(entry.q_posterior_mean)));
      log.record(
        `q_posterior_variance (${name})`,
        maxRelativeError(posterior.variance.dataSync(), new Array(16).fill(entry.q_posterior_variance)),
      );
      log.record(
        `q_posterior_log_variance_clipped (${name})`,
        maxRelativeError(posterior.logVariance.dataSync(), new Array(16).fill(entry.q_posterior_log_variance_clipped)),
      );
      tf.dispose([xt, fixtureXt, posterior]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x0, noise]);
    for (const [key, error] of log.worst) if (key.includes(name)) expect(error, key).toBeLessThanOrEqual(TOLERANCE);
  });

  it('accept per-item timesteps as arrays and tensors, and reject bad ones', () => {
    const x0 = tf.ones([3, 2, 2, 1]);
    const before = tf.memory().numTensors;
    const steps = tf.tensor1d([0, 4, 9], 'int32');
    const a = qSample(plainSchedule, x0, x0, [0, 4, 9]);
    const b = qSample(plainSchedule, x0, x0, steps);
    const c = coefficientsOf(plainSchedule);
    const expected = [0, 4, 9].flatMap((t) =>
      new Array<number>(4).fill(Math.fround(c.sqrtAlphasCumprod[t] + c.sqrtOneMinusAlphasCumprod[t])),
    );
    expect(maxRelativeError(a.dataSync(), expected)).toBeLessThan(1e-6);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b, steps]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => qSample(plainSchedule, x0, x0, 10)).toThrow(/qSample: timestep 10 is not an integer in \[0, 10\)/);
    expect(() => qSample(plainSchedule, x0, x0, [1, 2])).toThrow(/got 2 timesteps for a batch of 3/);
    expect(() => qSample(plainSchedule, x0, x0, 1.5)).toThrow(/timestep 1.5/);
    const wrong = tf.ones([3, 2, 2, 2]);
    expect(() => qSample(plainSchedule, x0, wrong, 1)).toThrow(/noise shape \[3, 2, 2, 2\] does not match x0 shape \[3, 2, 2, 1\]/);
    expect(() => qPosteriorMeanVariance(plainSchedule, x0, wrong, 1)).toThrow(/xt shape/);
    tf.dispose([x0, wrong]);
    expect(tf.memory().numTensors).toBe(before - 1);
  });
});
