/**
 * Shared by the native kernel tests: loading the addon (the suites skip, saying why, without it),
 * deterministic inputs, and running one computation on wasm (native kernels) and on tfjs' cpu.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';

import { loadNativeAddon } from './addon.js';
import { unregisterNativeWasmKernels } from './kernel-registry.js';
import { nativeKernelCallCount } from './wasm-heap.js';

/** Loads the addon; `available` false (with the reason, also printed) when it is not built. */
export async function loadForTests(suite: string): Promise<{ available: boolean; reason: string | undefined }> {
  const loading = await loadNativeAddon().then(
    () => ({ available: true, reason: undefined }),
    (error: unknown) => ({ available: false, reason: error instanceof Error ? error.message : String(error) }),
  );
  if (!loading.available) console.warn(`@diffusion-ts/native ${suite} tests skipped: ${loading.reason}`);
  return loading;
}

/** Deterministic values in [-1, 1). */
export function randomValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const values = new Float32Array(count);
  for (let index = 0; index < count; index++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values[index] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return values;
}

/** Largest absolute difference, relative to the reference's largest magnitude. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  let worst = 0;
  for (let index = 0; index < expected.length; index++) {
    scale = Math.max(scale, Math.abs(expected[index]));
    worst = Math.max(worst, Math.abs(actual[index] - expected[index]));
  }
  return worst / (scale || 1);
}

export type Compute = (...inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

/** Runs `compute` on `backend` with fresh tensors of the given shapes (random values from `seed`). */
export async function runOn(backend: string, shapes: number[][], seed: number, compute: Compute) {
  await tf.setBackend(backend);
  const inputs = shapes.map((shape, index) =>
    tf.tensor(
      randomValues(
        shape.reduce((p, n) => p * n, 1),
        seed * 101 + index,
      ),
      shape,
    ),
  );
  const result = compute(...inputs);
  const outputs = Array.isArray(result) ? result : [result];
  const values = await Promise.all(outputs.map(async (output) => ({ shape: output.shape, data: await output.data() })));
  tf.dispose([...inputs, ...outputs]);
  return values;
}

/**
 * Compares wasm (with the native kernels) against tfjs' cpu backend, and checks that every kernel
 * in `nativeKernels` ran natively at least once (rather than falling back).
 */
export async function expectMatchesCpu(shapes: number[][], compute: Compute, nativeKernels: string[], seed = 1): Promise<number[]> {
  const before = nativeKernels.map((name) => nativeKernelCallCount(name));
  const actual = await runOn('wasm', shapes, seed, compute);
  const calls = nativeKernels.map((name, index) => nativeKernelCallCount(name) - before[index]);
  const expected = await runOn('cpu', shapes, seed, compute);
  await tf.setBackend('wasm');
  expect(actual.map((output) => output.shape)).toEqual(expected.map((output) => output.shape));
  const errors = actual.map((output, index) => relativeError(output.data as Float32Array, expected[index].data as Float32Array));
  for (const error of errors) expect(error).toBeLessThanOrEqual(1e-5);
  expect(Object.fromEntries(nativeKernels.map((name, index) => [name, calls[index] > 0]))).toEqual(
    Object.fromEntries(nativeKernels.map((name) => [name, true])),
  );
  return errors;
}

/**
 * A describe block that runs on the wasm backend with the native kernels registered (and
 * unregisters them afterwards); skipped when the addon is not available.
 */
export function describeNative(title: string, available: boolean, body: () => void): void {
  describe.skipIf(!available)(title, () => {
    beforeAll(async () => {
      await tf.setBackend('wasm');
    });
    afterAll(() => {
      unregisterNativeWasmKernels();
    });
    body();
  });
}
