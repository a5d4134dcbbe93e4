/**
 * The forward process of every ᾱ-based scheduler (Diffusers' `add_noise` / `get_velocity`):
 * x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε and the v target sqrt(ᾱ_t) ε - sqrt(1 - ᾱ_t) x_0, with
 * the coefficients rounded to float32 first, as Diffusers casts `alphas_cumprod` to the sample
 * dtype before the square roots.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertFinite, assertSameShape } from './input-checks.js';
import { gatherPerItem, timestepTensor } from './per-item.js';
import type { TimestepsInput } from './scheduler.js';

/** `a(t) * first + sign * b(t) * second` with a = sqrt(ᾱ), b = sqrt(1 - ᾱ), one t per batch item. */
function mixByAlphaBar(
  alphasCumprod: Float64Array,
  [firstName, first]: [string, tf.Tensor],
  [secondName, second]: [string, tf.Tensor],
  timesteps: TimestepsInput,
  sign: 1 | -1,
  context: string,
): tf.Tensor {
  assertSameShape(first, firstName, second, secondName, context);
  assertFinite({ [firstName]: first, [secondName]: second }, context);
  const batch = first.rank === 0 ? 1 : first.shape[0];
  return tf.tidy(() => {
    const steps = timestepTensor(timesteps, batch, alphasCumprod.length, context);
    const signal = gatherPerItem(alphasCumprod.map((alphaBar) => Math.sqrt(alphaBar)), steps, first.rank);
    const noise = gatherPerItem(alphasCumprod.map((alphaBar) => Math.sqrt(Math.fround(1 - alphaBar))), steps, first.rank);
    const a = tf.mul(signal, first);
    const b = tf.mul(noise, second);
    return sign === 1 ? tf.add(a, b) : tf.sub(a, b);
  });
}

/** q(x_t | x_0) sample: `sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) noise`, timesteps per item or one for all. */
export function addNoiseWith(
  alphasCumprod: Float64Array,
  originalSamples: tf.Tensor,
  noise: tf.Tensor,
  timesteps: TimestepsInput,
  context: string,
): tf.Tensor {
  return mixByAlphaBar(alphasCumprod, ['originalSamples', originalSamples], ['noise', noise], timesteps, 1, `${context}.addNoise`);
}

/** The v target: `sqrt(ᾱ_t) noise - sqrt(1 - ᾱ_t) sample`. */
export function velocityWith(
  alphasCumprod: Float64Array,
  sample: tf.Tensor,
  noise: tf.Tensor,
  timesteps: TimestepsInput,
  context: string,
): tf.Tensor {
  return mixByAlphaBar(alphasCumprod, ['noise', noise], ['sample', sample], timesteps, -1, `${context}.getVelocity`);
}
