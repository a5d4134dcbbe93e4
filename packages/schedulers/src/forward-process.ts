/**
 * The forward process of the schedulers (Diffusers' `add_noise` / `get_velocity`): per batch
 * item, a(t) x_0 + b(t) ε with coefficients from per-timestep tables. For the ᾱ-based ones
 * x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε and the v target sqrt(ᾱ_t) ε - sqrt(1 - ᾱ_t) x_0, with
 * the coefficients rounded to float32 first, as Diffusers casts `alphas_cumprod` to the sample
 * dtype before the square roots; the sigma schedulers pass their own tables (`mixPerItem`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertFinite, assertSameShape } from './input-checks.js';
import { gatherPerItem, timestepTensor, timestepValues } from './per-item.js';
import type { TimestepsInput } from './scheduler.js';

/**
 * `signal[i_k] * first + sign * noise[i_k] * second` for every batch item k, the coefficients
 * read from per-index tables (rounded to float32). The index of an item is its timestep, or
 * `toIndex(timestep)` for schedulers whose tables follow their schedule (the sigma schedulers).
 */
export function mixPerItem(
  [signal, noise]: readonly [Float64Array, Float64Array],
  [firstName, first]: readonly [string, tf.Tensor],
  [secondName, second]: readonly [string, tf.Tensor],
  timesteps: TimestepsInput,
  sign: 1 | -1,
  context: string,
  toIndex?: (timestep: number) => number,
): tf.Tensor {
  assertSameShape(first, firstName, second, secondName, context);
  assertFinite({ [firstName]: first, [secondName]: second }, context);
  const batch = first.rank === 0 ? 1 : first.shape[0];
  const indices = toIndex === undefined ? timesteps : timestepValues(timesteps, batch, context).map(toIndex);
  return tf.tidy(() => {
    const steps = timestepTensor(indices, batch, signal.length, context);
    const a = tf.mul(gatherPerItem(signal, steps, first.rank), first);
    const b = tf.mul(gatherPerItem(noise, steps, first.rank), second);
    return sign === 1 ? tf.add(a, b) : tf.sub(a, b);
  });
}

/** The tables sqrt(ᾱ_t) and sqrt(1 - ᾱ_t) (1 - ᾱ in float32, as Diffusers computes it). */
function alphaBarTables(alphasCumprod: Float64Array): [Float64Array, Float64Array] {
  return [alphasCumprod.map((alphaBar) => Math.sqrt(alphaBar)), alphasCumprod.map((alphaBar) => Math.sqrt(Math.fround(1 - alphaBar)))];
}

/** q(x_t | x_0) sample: `sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) noise`, timesteps per item or one for all. */
export function addNoiseWith(
  alphasCumprod: Float64Array,
  originalSamples: tf.Tensor,
  noise: tf.Tensor,
  timesteps: TimestepsInput,
  context: string,
): tf.Tensor {
  const tables = alphaBarTables(alphasCumprod);
  return mixPerItem(tables, ['originalSamples', originalSamples], ['noise', noise], timesteps, 1, `${context}.addNoise`);
}

/** The v target: `sqrt(ᾱ_t) noise - sqrt(1 - ᾱ_t) sample`. */
export function velocityWith(
  alphasCumprod: Float64Array,
  sample: tf.Tensor,
  noise: tf.Tensor,
  timesteps: TimestepsInput,
  context: string,
): tf.Tensor {
  return mixPerItem(alphaBarTables(alphasCumprod), ['noise', noise], ['sample', sample], timesteps, -1, `${context}.getVelocity`);
}
