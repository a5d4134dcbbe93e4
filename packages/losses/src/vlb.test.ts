import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { vlbTerms } from './vlb.js';
import { ErrorLog, fixtureModel, maxRelativeError, toNhwc } from './testing/fixtures.js';
import { diffusion, plainSchedule, schedules } from './testing/diffusion.js';
import { cosineBetas, referenceConstants, referenceVbTerm } from './testing/reference.js';
import { qSample } from './posterior.js';

const TOLERANCE = 1e-5;

describe.each(testBackendNames())('vlbTerms on %s', (backend) => {
  const log = new ErrorLog();
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => console.log(log.format(`[${backend}] losses.json`)));

  it.each(schedules())('match _vb_terms_bpd at every t, clipped and unclipped (%s)', (name, scheduler) => {
    const x0 = toNhwc(diffusion.x_start);
    const before = tf.memory().numTensors;
    for (const entry of diffusion.per_t) {
      const xt = toNhwc(entry.x_t);
      const t = tf.tensor1d([entry.t], 'int32');
      const output = fixtureModel(xt, t);
      for (const clip of [false, true]) {
        const expected = clip ? entry.clip_denoised_true : entry.clip_denoised_false;
        const { terms, predXstart } = vlbTerms(output, x0, xt, t, { scheduler, clipDenoised: clip });
        const kind = entry.t === 0 ? 'decoder NLL, t=0' : 'KL, t>0';
        log.record(`vb_term_bpd ${kind} (clip_denoised=${clip}, ${name})`, maxRelativeError(terms.dataSync(), [expected.vb_term_bpd]));
        tf.dispose([terms, predXstart]);
      }
      tf.dispose([xt, t, output]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x0);
    for (const [key, error] of log.worst) if (key.includes(name)) expect(error, key).toBeLessThanOrEqual(TOLERANCE);
  });

  it('evaluates a batch with mixed timesteps item by item', () => {
    const x0 = tf.tidy(() => tf.concat([toNhwc(diffusion.x_start), toNhwc(diffusion.x_start)]));
    const xt = tf.tidy(() => tf.concat([toNhwc(diffusion.per_t[0].x_t), toNhwc(diffusion.per_t[3].x_t)]));
    const before = tf.memory().numTensors;
    const t = tf.tensor1d([0, 3], 'int32');
    const output = fixtureModel(xt, t);
    const { terms, predXstart } = vlbTerms(output, x0, xt, t, { scheduler: plainSchedule, clipDenoised: false });
    const expected = [diffusion.per_t[0].clip_denoised_false.vb_term_bpd, diffusion.per_t[3].clip_denoised_false.vb_term_bpd];
    expect(maxRelativeError(terms.dataSync(), expected)).toBeLessThanOrEqual(TOLERANCE);
    tf.dispose([t, output, terms, predXstart]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x0, xt]);
  });

  it('rejects data outside [-1, 1] and mismatched shapes', () => {
    const x0 = tf.fill([1, 2, 2, 1], 1.5);
    const ok = tf.zeros([1, 2, 2, 1]);
    const before = tf.memory().numTensors;
    expect(() => vlbTerms(ok, x0, ok, 1, { scheduler: plainSchedule })).toThrow(/vlbTerms: x0 must lie in \[-1, 1\]/);
    const wrong = tf.zeros([1, 2, 1, 1]);
    expect(() => vlbTerms(ok, ok, wrong, 1, { scheduler: plainSchedule })).toThrow(/xt shape \[1, 2, 1, 1\] does not match x0/);
    tf.dispose(wrong);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x0, ok]);
  });
});

describe.each(testBackendNames())('vlbTerms beyond the fixture on %s (float64 reference)', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  const pixels = diffusion.x_start.data;
  const cases = [
    ['cosine T=10', cosineBetas(10)],
    ['cosine T=1000', cosineBetas(1000)],
    ['linear T=1000', Float64Array.from({ length: 1000 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 999)],
  ] as const;
  const settings = [
    ['fixed_large', 'epsilon'],
    ['fixed_small', 'sample'],
    ['learned_range', 'epsilon'],
    ['learned_range', 'v_prediction'],
  ] as const;
  it.each(cases.flatMap(([name, betas]) => settings.map(([v, p]) => [name, v, p, betas] as const)))(
    '%s, %s, %s: every tested t within 1e-5 relative of a float64 evaluation',
    (_, varianceType, predictionType, betas) => {
      const scheduler = { betas, config: { numTrainTimesteps: betas.length } };
      const constants = referenceConstants(betas);
      const x0 = toNhwc(diffusion.x_start);
      const noise = toNhwc(diffusion.noise);
      const before = tf.memory().numTensors;
      let worst = 0;
      const total = betas.length;
      for (const t of total === 10 ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] : [0, 1, 2, 10, 500, 900, 998, 999]) {
        for (const clip of [false, true]) {
          const [xtValues, outputValues, term] = tf.tidy(() => {
            const xt = qSample(scheduler, x0, noise, t);
            const scale = t / (t + 1);
            const prediction = predictionType === 'v_prediction' ? tf.mul(tf.sin(tf.mul(xt, 3)), 0.8) : tf.mul(xt, scale);
            const output = varianceType === 'learned_range' ? tf.concat([prediction, tf.tanh(tf.mul(xt, 2))], 3) : prediction;
            const { terms } = vlbTerms(output, x0, xt, t, { scheduler, varianceType, predictionType, clipDenoised: clip });
            return [xt.dataSync(), output.dataSync(), terms.dataSync()[0]];
          });
          const reference = referenceVbTerm(
            constants,
            pixels.map(Math.fround),
            xtValues,
            outputValues,
            t,
            varianceType,
            predictionType,
            clip,
          );
          // Where ᾱ_t < 1e-5 (the last two cosine steps at T=1000), x̂_0 = (x_t - sqrt(1 - ᾱ) ε) / sqrt(ᾱ)
          // amplifies float32 rounding by 1/sqrt(ᾱ) > 300: allow 3e-5 there (measured 1.25e-5).
          const allowance = constants.alphasCumprod[t] < 1e-5 ? 3 : 1;
          worst = Math.max(worst, Math.abs(term - reference) / Math.abs(reference) / allowance);
        }
      }
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x0, noise]);
      expect(worst).toBeLessThanOrEqual(1e-5);
    },
  );
});
