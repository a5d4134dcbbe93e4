/**
 * The backend contract: the ops a UNet needs, and their gradients, give the cpu backend's numbers
 * (relative error <= 1e-4) on every backend available here (cases in testing/contract-cases.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { upsampleNearest } from '../ops/upsample-nearest.js';
import { CONTRACT_CASES, contractError, evaluateContractCase, input, NEEDS_TRAINING_KERNELS } from '../testing/contract-cases.js';
import { backendCanTrain, disposeBackend, initBackend, trainingGap, type BackendName } from './init-backend.js';
import { contractBackendNames } from '../testing/index.js';

const backends = await contractBackendNames();
const reference: Record<string, Float32Array[]> = {};
const table: Record<string, Record<string, string>> = {};

describe.each(backends)('backend contract on %s', (backend: BackendName) => {
  it.each(Object.keys(CONTRACT_CASES))('%s matches cpu within 1e-4', async (name) => {
    if (!reference[name]) {
      await initBackend('cpu');
      reference[name] = await evaluateContractCase(name);
    }
    await initBackend(backend);
    if (NEEDS_TRAINING_KERNELS(name) && !backendCanTrain(backend)) {
      // A known gap (tfjs wasm without diffusion-ts' kernels): the gradient must fail loudly, not silently.
      console.log(`backend contract: ${name} gradients on ${backend} unsupported: ${trainingGap(backend)}`);
      (table[name] ??= {})[backend] = 'no grad kernel';
      await expect(evaluateContractCase(name)).rejects.toThrow(/Conv2DBackprop|not (yet )?implemented|kernel/i);
      return;
    }
    const before = tf.memory().numTensors;
    const error = contractError(await evaluateContractCase(name), reference[name]);
    expect(tf.memory().numTensors).toBe(before);
    (table[name] ??= {})[backend] = error.toExponential(1);
    expect(error).toBeLessThanOrEqual(1e-4);
  });
});

describe('nearest-upsample gradient on cpu', () => {
  it("tfjs' resizeNearestNeighbor gradient is wrong; core's upsampleNearest is exact", async () => {
    await initBackend('cpu');
    const [tfjsError, coreError] = tf.tidy(() => {
      // The fault shows with batch > 1 (single-image, single-channel inputs come out right).
      const x = input([2, 8, 8, 4], 0.3) as tf.Tensor4D;
      const weights = tf.add(tf.mul(input([2, 16, 16, 4], 1.4), 2), 3);
      const loss = (up: (a: tf.Tensor4D) => tf.Tensor) => (a: tf.Tensor) => tf.sum(tf.mul(up(a as tf.Tensor4D), weights));
      const exact = tf.mul(tf.avgPool(weights as tf.Tensor4D, 2, 2, 'valid'), 4);
      const maxError = (g: tf.Tensor) => tf.max(tf.abs(tf.sub(g, exact))).dataSync()[0];
      return [
        maxError(tf.grad(loss((a) => tf.image.resizeNearestNeighbor(a, [16, 16])))(x)),
        maxError(tf.grad(loss((a) => upsampleNearest(a)))(x)),
      ];
    });
    table['tfjs resizeNearestNeighbor grad, max abs error (known bad)'] = { cpu: tfjsError.toExponential(1) };
    table['core upsampleNearest grad, max abs error'] = { cpu: coreError.toExponential(1) };
    expect(tfjsError).toBeGreaterThan(1);
    expect(coreError).toBeLessThanOrEqual(1e-5);
  });
});

afterAll(() => {
  console.log(`backend contract, max relative error vs cpu (${backends.join(', ')}):`);
  console.table(table);
  disposeBackend();
});
