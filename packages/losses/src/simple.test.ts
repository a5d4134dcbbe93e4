import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { lSimple, minSnrWeights } from './simple.js';
import { qSample } from './posterior.js';
import { ErrorLog, fixtureModel, maxRelativeError, toNhwc } from './testing/fixtures.js';
import { diffusion, plainSchedule, realScheduler, schedules } from './testing/diffusion.js';
import { convModel, gradientValues, linearModel } from './testing/tiny-model.js';

const TOLERANCE = 1e-5;

describe.each(testBackendNames())('lSimple on %s', (backend) => {
  const log = new ErrorLog();
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => console.log(log.format(`[${backend}] losses.json`)));

  it.each(schedules())('matches training_losses (MSE) at every t (%s)', (name, scheduler) => {
    const x0 = toNhwc(diffusion.x_start);
    const noise = toNhwc(diffusion.noise);
    const before = tf.memory().numTensors;
    for (const entry of diffusion.per_t) {
      const loss = tf.tidy(() => {
        const t = tf.tensor1d([entry.t], 'int32');
        const output = fixtureModel(qSample(scheduler, x0, noise, t), t);
        return lSimple(output, { x0, noise, timesteps: t, scheduler, reduction: 'none' });
      });
      expect(loss.shape).toEqual([1]);
      log.record(`training_losses mse (${name})`, maxRelativeError(loss.dataSync(), [entry.training_losses_mse.loss]));
      loss.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x0, noise]);
    expect(log.worst.get(`training_losses mse (${name})`)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('picks the target by prediction type, and supports l1, huber and min-SNR weighting', () => {
    const scheduler = realScheduler();
    const x0 = tf.tensor4d([0.5, -0.5, 0.25, 1], [2, 1, 1, 2]);
    const noise = tf.tensor4d([1, -2, 0.5, 0.1], [2, 1, 1, 2]);
    const output = tf.tensor4d([0.9, -1.0, 0.4, 0.3], [2, 1, 1, 2]);
    const before = tf.memory().numTensors;
    const timesteps = [2, 7];
    const a = scheduler.alphasCumprod;
    const x = [0.5, -0.5, 0.25, 1];
    const n = [1, -2, 0.5, 0.1];
    const o = [0.9, -1.0, 0.4, 0.3];
    const item = (i: number) => Math.floor(i / 2);
    const targets = {
      epsilon: n,
      sample: x,
      v_prediction: n.map((e, i) => Math.sqrt(a[timesteps[item(i)]]) * e - Math.sqrt(1 - a[timesteps[item(i)]]) * x[i]),
    };
    const perItem = (values: number[]) => [0, 1].map((b) => (values[2 * b] + values[2 * b + 1]) / 2);
    for (const [type, target] of Object.entries(targets) as [keyof typeof targets, number[]][]) {
      const d = o.map((v, i) => v - target[i]);
      const expected = {
        mse: perItem(d.map((v) => v * v)),
        l1: perItem(d.map(Math.abs)),
        huber: perItem(d.map((v) => (Math.abs(v) <= 0.5 ? 0.5 * v * v : 0.5 * (Math.abs(v) - 0.25)))),
      };
      for (const lossType of ['mse', 'l1', 'huber'] as const) {
        const loss = lSimple(output, {
          x0,
          noise,
          timesteps,
          scheduler,
          predictionType: type,
          lossType,
          huberDelta: 0.5,
          reduction: 'none',
        });
        expect(maxRelativeError(loss.dataSync(), expected[lossType]), `${type} ${lossType}`).toBeLessThan(1e-6);
        loss.dispose();
      }
      const weights = minSnrWeights(a, 5, type);
      const weighted = lSimple(output, { x0, noise, timesteps, scheduler, predictionType: type, snrGamma: 5 });
      const mean = (expected.mse[0] * weights[2] + expected.mse[1] * weights[7]) / 2;
      expect(maxRelativeError(weighted.dataSync(), [mean]), `${type} snr`).toBeLessThan(1e-6);
      weighted.dispose();
    }
    const snr = (t: number) => a[t] / (1 - a[t]);
    expect(minSnrWeights(a, 5, 'epsilon')[9]).toBeCloseTo(Math.min(snr(9), 5) / snr(9), 12);
    expect(minSnrWeights(a, 5, 'v_prediction')[0]).toBeCloseTo(5 / (snr(0) + 1), 12);
    expect(minSnrWeights(a, 5, 'sample')[0]).toBe(5);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x0, noise, output]);
  });

  it('has finite, non-zero gradients through a tiny matMul model', () => {
    const model = linearModel(1, 1);
    const x0 = toNhwc(diffusion.x_start);
    const noise = toNhwc(diffusion.noise);
    const before = tf.memory().numTensors;
    for (const predictionType of ['epsilon', 'sample', 'v_prediction'] as const) {
      const { value, grads } = gradientValues(
        () =>
          tf.tidy(() => {
            const xt = qSample(plainSchedule, x0, noise, [4]);
            return lSimple(model.apply(xt), {
              x0,
              noise,
              timesteps: [4],
              scheduler: plainSchedule,
              predictionType,
              snrGamma: 5,
            }) as tf.Scalar;
          }),
        model.variables,
      );
      expect(Number.isFinite(value)).toBe(true);
      for (const g of grads) expect(g.every(Number.isFinite) && g.some((v) => v !== 0), predictionType).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x0, noise]);
    model.dispose();
  });

  it('has finite, non-zero gradients through a conv2d model (where conv filter gradients exist)', (context) => {
    if (!tf.getKernel('Conv2DBackpropFilter', backend)) context.skip();
    const model = convModel(1, 1);
    const x0 = toNhwc(diffusion.x_start);
    const noise = toNhwc(diffusion.noise);
    const { grads } = gradientValues(
      () =>
        tf.tidy(
          () =>
            lSimple(model.apply(qSample(plainSchedule, x0, noise, [3])), {
              x0,
              noise,
              timesteps: [3],
              scheduler: plainSchedule,
            }) as tf.Scalar,
        ),
      model.variables,
    );
    expect(grads[0].every(Number.isFinite) && grads[0].some((v) => v !== 0)).toBe(true);
    tf.dispose([x0, noise]);
    model.dispose();
  });

  it('rejects bad input with errors naming the argument', () => {
    const x0 = tf.zeros([2, 2, 2, 1]);
    const before = tf.memory().numTensors;
    const wide = tf.zeros([2, 2, 2, 2]);
    const odd = tf.zeros([2, 2, 2, 3]);
    const base = { x0, noise: x0, timesteps: [1, 2], scheduler: plainSchedule };
    expect(() => lSimple(wide, base)).toThrow(/lSimple: modelOutput has 2·C channels.*use lHybrid/);
    expect(() => lSimple(odd, base)).toThrow(/modelOutput shape \[2, 2, 2, 3\] does not match x0/);
    expect(() => lSimple(x0, { ...base, noise: odd })).toThrow(/noise shape/);
    expect(() => lSimple(x0, { ...base, lossType: 'l2' as never })).toThrow(/unknown lossType 'l2'/);
    expect(() => lSimple(x0, { ...base, predictionType: 'eps' as never })).toThrow(/unknown predictionType 'eps'/);
    expect(() => lSimple(x0, { ...base, snrGamma: -1 })).toThrow(/snrGamma must be a positive number/);
    expect(() => lSimple(x0, { ...base, timesteps: [1, 20] })).toThrow(/timestep 20 is not an integer in \[0, 10\)/);
    tf.dispose([wide, odd]);
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
  });
});
