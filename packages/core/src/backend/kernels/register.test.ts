import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { initBackend, useNativeKernels } from '../../index.js';
import { registerWasmTrainingKernels, wasmTrainingKernelsRegistered } from './index.js';

describe('registerWasmTrainingKernels', () => {
  // These are core's own kernels: with @diffusion-ts/native's active, its conv gradients sit on top.
  beforeAll(async () => {
    await initBackend('wasm');
    await useNativeKernels(false);
  });
  afterAll(async () => {
    await useNativeKernels(true);
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
