import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { lHybrid } from './hybrid.js';
import { lSimple } from './simple.js';
import { qSample } from './posterior.js';
import { vlbTerms } from './vlb.js';
import { ErrorLog, fixtureModel, maxRelativeError, toNhwc } from './testing/fixtures.js';
import { diffusion, plainSchedule, realScheduler } from './testing/diffusion.js';
import { convModel, gradientValues, linearModel } from './testing/tiny-model.js';

const TOLERANCE = 1e-5;

describe.each(testBackendNames())('lHybrid on %s', (backend) => {
  const log = new ErrorLog();
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => console.log(log.format(`[${backend}] losses.json`)));

  it('is L_simple + 0.001 · T · L_t (improved-diffusion RESCALED_MSE) on the fixture', () => {
    const x0 = toNhwc(diffusion.x_start);
    const noise = toNhwc(diffusion.noise);
    const before = tf.memory().numTensors;
    for (const entry of diffusion.per_t) {
      const loss = tf.tidy(() => {
        const t = tf.tensor1d([entry.t], 'int32');
        const xt = qSample(plainSchedule, x0, noise, t);
        return lHybrid(fixtureModel(xt, t), { x0, noise, xt, timesteps: t, scheduler: plainSchedule });
      });
      // The fixture's bound terms are for its stored x_t (our qSample agrees to 1e-7).
      const expected = entry.training_losses_mse.loss + (entry.clip_denoised_false.vb_term_bpd * 10) / 1000;
      log.record('training_losses mse + vb·T/1000', maxRelativeError(loss.dataSync(), [expected]));
      loss.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x0, noise]);
    expect(log.worst.get('training_losses mse + vb·T/1000')).toBeLessThanOrEqual(TOLERANCE);
  });

  it('learned_range: the bound trains only the variance (stop-gradient on the mean)', () => {
    const scheduler = realScheduler();
    const model = linearModel(1, 2);
    const x0 = toNhwc(diffusion.x_start);
    const noise = toNhwc(diffusion.noise);
    const before = tf.memory().numTensors;
    for (const t of [[0], [3], [9]]) {
      const options = { x0, noise, timesteps: t, scheduler, varianceType: 'learned_range' as const };
      const hybrid = gradientValues(
        () => tf.tidy(() => lHybrid(model.apply(qSample(scheduler, x0, noise, t)), options) as tf.Scalar),
        model.variables,
      );
      const simple = gradientValues(
        () =>
          tf.tidy(() => {
            const output = model.apply(qSample(scheduler, x0, noise, t));
            return lSimple(tf.slice(output, [0, 0, 0, 0], [-1, -1, -1, 1]), options) as tf.Scalar;
          }),
        model.variables,
      );
      const [hybridWeights, hybridBias] = hybrid.grads;
      const [simpleWeights, simpleBias] = simple.grads;
      expect(Number.isFinite(hybrid.value) && hybrid.value > simple.value, `t=${String(t)}`).toBe(true);
      for (const g of hybrid.grads) expect(g.every(Number.isFinite)).toBe(true);
      // Column 0 (the prediction) gets exactly the L_simple gradient; column 1 (variance) only the bound's.
      expect(maxRelativeError([hybridWeights[0], hybridBias[0]], [simpleWeights[0], simpleBias[0]]), `t=${String(t)}`).toBeLessThan(1e-6);
      expect(simpleWeights[1]).toBe(0);
      expect(Math.abs(hybridWeights[1]) + Math.abs(hybridBias[1])).toBeGreaterThan(0);
    }
    // The value equals L_simple + λ T vlbTerms (clipDenoised false) of the same output.
    const [value, reference] = tf.tidy(() => {
      const xt = qSample(scheduler, x0, noise, [5]);
      const output = model.apply(xt);
      const options = { x0, noise, timesteps: [5], scheduler, varianceType: 'learned_range' as const };
      const hybrid = lHybrid(output, { ...options, lambda: 0.01 });
      const simple = lSimple(tf.slice(output, [0, 0, 0, 0], [-1, -1, -1, 1]), options);
      const { terms } = vlbTerms(output, x0, xt, [5], { scheduler, varianceType: 'learned_range', clipDenoised: false });
      return [hybrid.dataSync()[0], tf.add(simple, tf.mul(terms, 0.01 * 10)).dataSync()[0]];
    });
    expect(maxRelativeError([value], [reference])).toBeLessThan(1e-6);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x0, noise]);
    model.dispose();
  });

  it('has finite, non-zero gradients through a conv2d model (where conv filter gradients exist)', (context) => {
    if (!tf.getKernel('Conv2DBackpropFilter', backend)) context.skip();
    const model = convModel(1, 2);
    const x0 = toNhwc(diffusion.x_start);
    const noise = toNhwc(diffusion.noise);
    const options = { x0, noise, timesteps: [2], scheduler: plainSchedule, varianceType: 'learned_range' as const };
    const { grads } = gradientValues(
      () => tf.tidy(() => lHybrid(model.apply(qSample(plainSchedule, x0, noise, [2])), options) as tf.Scalar),
      model.variables,
    );
    expect(grads[0].every(Number.isFinite) && grads[0].some((v) => v !== 0)).toBe(true);
    tf.dispose([x0, noise]);
    model.dispose();
  });

  it('rejects bad input with errors naming the argument', () => {
    const x0 = tf.zeros([1, 2, 2, 1]);
    const before = tf.memory().numTensors;
    const base = { x0, noise: x0, timesteps: 1, scheduler: plainSchedule };
    const bright = tf.fill([1, 2, 2, 1], 3);
    expect(() => lHybrid(x0, { ...base, varianceType: 'learned_range' })).toThrow(
      /lHybrid: varianceType 'learned_range' needs modelOutput of shape \[1, 2, 2, 2\]/,
    );
    expect(() => lHybrid(x0, { ...base, varianceType: 'wide' as never })).toThrow(/unknown varianceType 'wide'/);
    expect(() => lHybrid(x0, { ...base, x0: bright, noise: bright })).toThrow(/x0 must lie in \[-1, 1\]/);
    expect(() => lHybrid(x0, { ...base, lambda: Number.NaN })).toThrow(/lambda must be a non-negative number/);
    const odd = tf.zeros([1, 2, 2, 3]);
    expect(() => lHybrid(odd, base)).toThrow(/lHybrid: modelOutput shape \[1, 2, 2, 3\] does not match x0 shape \[1, 2, 2, 1\]/);
    odd.dispose();
    tf.dispose(bright);
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
  });
});
