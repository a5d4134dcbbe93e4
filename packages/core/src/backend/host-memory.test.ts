import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { moveToHostMemory } from './host-memory.js';

describe('moveToHostMemory on wasm', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  afterAll(async () => {
    await initBackend('cpu');
  });

  it('frees the heap a tensor held, and tfjs moves it back on its next use', async () => {
    const wasm = tf.backend() as unknown as { dataIdMap: { has(id: object): boolean } };
    const weights = tf.variable(tf.tidy(() => tf.range(0, 1024, 1, 'float32')));
    const before = tf.memory().numTensors;
    await moveToHostMemory([weights]);
    expect(wasm.dataIdMap.has(weights.dataId)).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    const doubled = tf.mul(weights, 2);
    expect(wasm.dataIdMap.has(weights.dataId)).toBe(true);
    expect(doubled.dataSync()[1023]).toBe(2046);
    await moveToHostMemory([weights, weights]);
    expect(wasm.dataIdMap.has(weights.dataId)).toBe(false);
    expect(weights.dataSync()[5]).toBe(5);
    tf.dispose([weights, doubled]);
    expect(tf.memory().numTensors).toBe(before - 1);
  });
});
