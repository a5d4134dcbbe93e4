/** Test helpers: load the Diffusers reference fixtures and compare tensors with them. */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';

/** An array as stored in the fixture JSON files. */
export interface FixtureArray {
  dtype: string;
  shape: number[];
  data: number[];
}

/** Reads `fixtures/diffusers/<name>` (parsed JSON). */
export function loadFixture<T = Record<string, unknown>>(name: string): T {
  const url = new URL(`../../../../fixtures/diffusers/${name}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as T;
}

/** The array's values rounded to float32 (the exact bits the fixture stores). */
export function float32Values(array: FixtureArray): Float64Array {
  return Float64Array.from(array.data, Math.fround);
}

/** The array as a float32 tensor of its stored (NCHW) shape. */
export function toTensor(array: FixtureArray): tf.Tensor {
  return tf.tensor(Float32Array.from(array.data), array.shape, 'float32');
}

/**
 * The largest error of `actual` against `expected`: absolute where |expected| <= 1, relative
 * above (the fixtures' rule for loop parity).
 */
export function maxMixedError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i += 1) {
    const reference = Math.fround(expected[i]);
    const error = Math.abs(actual[i] - reference) / Math.max(1, Math.abs(reference));
    if (!(error <= worst)) worst = Number.isNaN(error) ? Infinity : error;
  }
  return worst;
}

/** The largest relative error (|a - e| / |e|, absolute where e == 0). */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i += 1) {
    const reference = expected[i];
    const error = reference === 0 ? Math.abs(actual[i]) : Math.abs(actual[i] - reference) / Math.abs(reference);
    if (!(error <= worst)) worst = Number.isNaN(error) ? Infinity : error;
  }
  return worst;
}

/** Diffusers' dummy model: `fround(fround(sample * t) / (t + 1))`, elementwise in float32. */
export function dummyModel(sample: tf.Tensor, timestep: number): tf.Tensor {
  return tf.tidy(() => tf.div(tf.mul(sample, timestep), timestep + 1));
}

/** Records the worst error seen per fixture file, printed at the end of a suite. */
export const worstErrors = new Map<string, number>();

/** Remembers `error` for `file` if it is the largest so far. */
export function recordError(file: string, error: number): void {
  worstErrors.set(file, Math.max(worstErrors.get(file) ?? 0, error));
}
