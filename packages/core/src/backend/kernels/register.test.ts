import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from '../../index.js';
import { registerWasmTrainingKernels, wasmTrainingKernelsRegistered } from './index.js';

describe('registerWasmTrainingKernels', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('registers the four kernels for wasm, idempotently and without warnings', () => {
    const warnings: unknown[] = [];
    const originalWarn = console.warn;
    console.warn = (...items: unknown[]) => warnings.push(items);
    try {
      expect(registerWasmTrainingKernels()).toBe(true);
      expect(registerWasmTrainingKernels()).toBe(true);
    } finally {
      console.warn = originalWarn;
    }
    expect(warnings).toEqual([]);
    expect(wasmTrainingKernelsRegistered()).toBe(true);
    for (const name of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'UnsortedSegmentSum', 'Tile']) {
      expect(tf.getKernel(name, 'wasm')).toBeDefined();
    }
  });
});
