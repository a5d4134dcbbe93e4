import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, testBackendNames } from '@diffusion-ts/core';
import { vlbTerms } from './vlb.js';
import { ErrorLog, fixtureModel, maxRelativeError, toNhwc } from './testing/fixtures.js';
import { diffusion, plainSchedule, schedules } from './testing/diffusion.js';

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
