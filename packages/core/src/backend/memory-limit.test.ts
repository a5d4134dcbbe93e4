import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { backendMemoryLimit, moveToHostMemory, WASM_HEAP_LIMIT_BYTES } from './memory-limit.js';

describe('backendMemoryLimit', () => {
  it('gives the wasm heap limit (4 GiB - 64 KiB) and the machine memory for cpu', async () => {
    expect(WASM_HEAP_LIMIT_BYTES).toBe(2 ** 32 - 2 ** 16);
    expect(await backendMemoryLimit('wasm')).toMatchObject({ backend: 'wasm', totalBytes: WASM_HEAP_LIMIT_BYTES });
    const cpu = await backendMemoryLimit('cpu');
    expect(cpu.totalBytes).toBeGreaterThan(2 ** 28);
    expect(cpu.tensorBytes).toBeNull();
  });
});

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
