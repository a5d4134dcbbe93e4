import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  assertCanTrain,
  backendCanTrain,
  chooseBackend,
  currentBackend,
  initBackend,
  listBackends,
  testBackendNames,
} from './init-backend.js';
import { isSoftwareAdapter } from './webgpu.js';

const adapter = (fields: Partial<Parameters<typeof isSoftwareAdapter>[0]>) => ({
  vendor: '',
  architecture: '',
  device: '',
  description: '',
  isFallbackAdapter: false,
  ...fields,
});

describe('backend selection', () => {
  it('classifies software adapters', () => {
    expect(isSoftwareAdapter(adapter({ vendor: 'google', architecture: 'swiftshader' }))).toBe(true);
    expect(isSoftwareAdapter(adapter({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }))).toBe(true);
    expect(isSoftwareAdapter(adapter({ description: 'Microsoft Basic Render Driver' }))).toBe(true);
    expect(isSoftwareAdapter(adapter({ vendor: 'nvidia', isFallbackAdapter: true }))).toBe(true);
    expect(isSoftwareAdapter(adapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100' }))).toBe(false);
    expect(isSoftwareAdapter(adapter({ vendor: 'apple', architecture: 'metal-3' }))).toBe(false);
  });

  it('lists every backend with a reason when unavailable', async () => {
    const infos = await listBackends();
    expect(infos.map((info) => info.name)).toEqual(['webgpu', 'cuda', 'wasm', 'cpu']);
    const cuda = infos.find((info) => info.name === 'cuda')!;
    expect(cuda.available).toBe(false);
    expect(cuda.reason).toMatch(/@tensorflow\/tfjs-node-gpu/);
    expect(infos.find((info) => info.name === 'cpu')).toMatchObject({ available: true, canTrain: true });
    const webgpu = infos.find((info) => info.name === 'webgpu')!;
    if (webgpu.available) expect(webgpu.software).toBe(isSoftwareAdapter(webgpu.adapter!));
  });

  it('auto never picks a software WebGPU adapter over wasm', async () => {
    const infos = await listBackends();
    const webgpu = infos.find((info) => info.name === 'webgpu')!;
    const expected = webgpu.available && !webgpu.software ? 'webgpu' : 'wasm';
    expect(await chooseBackend()).toBe(expected);
  });

  it('names the package when cuda is missing, and rejects unknown names', async () => {
    await expect(initBackend('cuda')).rejects.toThrow(/npm i @tensorflow\/tfjs-node-gpu/);
    await expect(initBackend('metal' as 'cpu')).rejects.toThrow(/Unknown backend 'metal'/);
  });

  it('reports which backends can train', async () => {
    for (const name of testBackendNames()) {
      await initBackend(name);
      expect(currentBackend()).toBe(name);
      expect(backendCanTrain()).toBe(true);
      expect(() => assertCanTrain()).not.toThrow();
      // The registered kernels make weight gradients work on every test backend.
      const w = tf.ones([3, 3, 2, 2]) as tf.Tensor4D;
      const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
      const g = tf.grad((kernel: tf.Tensor) => tf.sum(tf.conv2d(x, kernel as tf.Tensor4D, 1, 'same')))(w);
      expect(g.shape).toEqual([3, 3, 2, 2]);
      tf.dispose([w, x, g]);
    }
  });
});
