/** Test helpers: read `fixtures/diffusers/losses.json` and measure errors against it. */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';

/** An array as stored in the fixture JSON. */
export interface FixtureArray {
  dtype: string;
  shape: number[];
  data: number[];
}

/** One clip setting of a per-t entry. */
export interface ClipEntry {
  vb_term_bpd: number;
  vb_term_kind: string;
  pred_xstart: FixtureArray;
  p_mean: FixtureArray;
  p_log_variance: FixtureArray;
}

/** The per-timestep records of the T=10 diffusion. */
export interface PerT {
  t: number;
  x_t: FixtureArray;
  q_posterior_mean: FixtureArray;
  q_posterior_variance: number;
  q_posterior_log_variance_clipped: number;
  clip_denoised_false: ClipEntry;
  clip_denoised_true: ClipEntry;
  training_losses_mse: { mse: number; loss: number };
}

/** The parts of losses.json the tests read. */
export interface LossesFixture {
  elementwise: {
    normal_kl: {
      cases: {
        mean1: FixtureArray;
        logvar1: FixtureArray;
        mean2: FixtureArray | number;
        logvar2: FixtureArray | number;
        kl: FixtureArray;
      }[];
    };
    approx_standard_normal_cdf: { x: FixtureArray; cdf: FixtureArray };
    discretized_gaussian_log_likelihood: { x: FixtureArray; means: FixtureArray; log_scales: FixtureArray; log_probs: FixtureArray };
  };
  diffusion_T10_linear_fixed_small_epsilon: {
    betas: FixtureArray;
    derived_float64: Record<string, FixtureArray>;
    x_start: FixtureArray;
    noise: FixtureArray;
    per_t: PerT[];
    prior_bpd: number;
    calc_bpd_loop_clip_denoised_true: {
      total_bpd: number;
      prior_bpd: number;
      vb: FixtureArray;
      xstart_mse: FixtureArray;
      mse: FixtureArray;
    };
  };
}

/** Parsed `fixtures/diffusers/losses.json`. */
export function loadLossesFixture(): LossesFixture {
  const url = new URL('../../../../fixtures/diffusers/losses.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as LossesFixture;
}

/** A fixture array as a float32 tensor of its stored shape. */
export function toTensor(array: FixtureArray): tf.Tensor {
  return tf.tensor(Float32Array.from(array.data), array.shape, 'float32');
}

/** An NCHW fixture array as an NHWC float32 tensor. */
export function toNhwc(array: FixtureArray): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(toTensor(array) as tf.Tensor4D, [0, 2, 3, 1]));
}

/** The values of an NCHW fixture array in NHWC order. */
export function nhwcValues(array: FixtureArray): Float64Array {
  const [n, c, h, w] = array.shape;
  const out = new Float64Array(array.data.length);
  for (let b = 0; b < n; b += 1)
    for (let k = 0; k < c; k += 1)
      for (let y = 0; y < h; y += 1)
        for (let x = 0; x < w; x += 1) out[((b * h + y) * w + x) * c + k] = array.data[((b * c + k) * h + y) * w + x];
  return out;
}

/**
 * The largest relative error |a - e| / |e|; where |e| < `floor` the error is measured against
 * `floor` instead (so exact zeros are compared absolutely).
 */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-30): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i += 1) {
    const error = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
    if (!(error <= worst)) worst = Number.isNaN(error) ? Infinity : error;
  }
  return worst;
}

/** Worst error per fixture case, per suite. */
export class ErrorLog {
  readonly worst = new Map<string, number>();

  /** Records `error` for `name` and returns it. */
  record(name: string, error: number): number {
    this.worst.set(name, Math.max(this.worst.get(name) ?? 0, error));
    return error;
  }

  /** One line per case. */
  format(prefix: string): string {
    return [...this.worst].map(([name, error]) => `${prefix} ${name}: ${error.toExponential(2)}`).join('\n');
  }
}

/** The fixture's model: x_t · t / (t + 1), t per batch item, as epsilon. */
export function fixtureModel(xt: tf.Tensor, t: tf.Tensor1D): tf.Tensor {
  return tf.tidy(() => {
    const steps = tf.reshape(tf.cast(t, 'float32'), [t.size, ...new Array<number>(xt.rank - 1).fill(1)]);
    return tf.mul(xt, tf.div(steps, tf.add(steps, 1)));
  });
}
