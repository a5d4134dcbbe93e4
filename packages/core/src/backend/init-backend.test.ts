import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendError } from './backend-error.js';
import { registerWasmTrainingKernels } from './kernels/index.js';
import {
  assertCanTrain,
  backendCanTrain,
  chooseBackend,
  currentBackend,
  initBackend,
  listBackends,
  pickAutoBackend,
  type BackendInfo,
} from './init-backend.js';
import { testBackendNames } from '../testing/index.js';
import { useSwiftshaderForTests } from '../testing/swiftshader.js';
import { isSoftwareAdapter } from './webgpu.js';

// Gives this process a real (software) WebGPU adapter where SwiftShader is installed.
const swiftshader = useSwiftshaderForTests();

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
    expect(isSoftwareAdapter(adapter({ vendor: 'mesa', description: 'lavapipe' }))).toBe(true);
    expect(isSoftwareAdapter(adapter({ vendor: 'Google', device: 'SwiftShader Device (Subzero)' }))).toBe(true);
    expect(isSoftwareAdapter(adapter({ vendor: 'amd', architecture: 'rdna-3', description: 'AMD Radeon RX 7900' }))).toBe(false);
  });

  it('lists every backend with a reason when unavailable', async () => {
    const infos = await listBackends();
    expect(infos.map((info) => info.name)).toEqual(['webgpu', 'cuda', 'wasm', 'cpu']);
    const cuda = infos.find((info) => info.name === 'cuda')!;
    expect(cuda).toMatchObject({ available: false, canTrain: false });
    expect(cuda.reason).toMatch(/npm i @tensorflow\/tfjs-node-gpu/);
    expect(infos.find((info) => info.name === 'wasm')).toMatchObject({ available: true, canTrain: true });
    expect(infos.find((info) => info.name === 'cpu')).toMatchObject({ available: true, canTrain: true });
    const webgpu = infos.find((info) => info.name === 'webgpu')!;
    if (webgpu.available) expect(webgpu.software).toBe(isSoftwareAdapter(webgpu.adapter!));
  });

  it('auto never picks a software WebGPU adapter over wasm', async () => {
    const infos = await listBackends();
    const webgpu = infos.find((info) => info.name === 'webgpu')!;
    if (swiftshader) expect(webgpu).toMatchObject({ available: true, software: true });
    const expected = webgpu.available && !webgpu.software ? 'webgpu' : 'wasm';
    expect(await chooseBackend()).toBe(expected);
  });

  it('auto prefers hardware webgpu, then cuda, then wasm, then cpu', () => {
    const info = (name: BackendInfo['name'], available: boolean, extra: Partial<BackendInfo> = {}): BackendInfo => ({
      name,
      available,
      canTrain: available,
      ...extra,
    });
    const hardware = adapter({ vendor: 'nvidia', architecture: 'ampere' });
    const fallback = adapter({ vendor: 'nvidia', architecture: 'ampere', isFallbackAdapter: true });
    const swift = adapter({ vendor: 'google', architecture: 'swiftshader' });
    const rest = [info('cuda', false), info('wasm', true), info('cpu', true)];
    expect(pickAutoBackend([info('webgpu', true, { adapter: hardware }), ...rest])).toBe('webgpu');
    // The classification is re-checked even when a report forgot the software flag.
    expect(pickAutoBackend([info('webgpu', true, { adapter: fallback }), ...rest])).toBe('wasm');
    expect(pickAutoBackend([info('webgpu', true, { adapter: swift, software: true }), ...rest])).toBe('wasm');
    expect(pickAutoBackend([info('webgpu', true, { adapter: swift }), info('cuda', true), ...rest.slice(1)])).toBe('cuda');
    expect(pickAutoBackend([info('webgpu', false), info('cuda', false), info('wasm', false), info('cpu', true)])).toBe('cpu');
  });

  it('names the package when cuda is missing, and rejects unknown names', async () => {
    const cuda = await initBackend('cuda').catch((error: unknown) => error);
    expect(cuda).toBeInstanceOf(BackendError);
    expect((cuda as Error).message).toMatch(/npm i @tensorflow\/tfjs-node-gpu/);
    expect(cuda).toMatchObject({ backend: 'cuda', fault: 'missing-package', packageName: '@tensorflow/tfjs-node-gpu' });
    const unknown = await initBackend('metal' as 'cpu').catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(BackendError);
    expect((unknown as Error).message).toMatch(/Unknown backend 'metal'/);
    expect(unknown).toMatchObject({ fault: 'unknown-backend', backend: 'metal' });
  });

  it('reports a missing gradient kernel before any work, and initBackend restores it', async () => {
    await initBackend('wasm');
    tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
    try {
      expect(backendCanTrain('wasm')).toBe(false);
      expect(() => assertCanTrain()).toThrow(/wasm backend.*Conv2DBackpropFilter/);
      expect(() => assertCanTrain('wasm')).toThrow(expect.objectContaining({ fault: 'cannot-train', backend: 'wasm' }) as Error);
      const w = tf.ones([3, 3, 2, 2]) as tf.Tensor4D;
      const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
      // What training would hit midway without the check: tfjs' own error.
      expect(() => tf.grad((kernel: tf.Tensor) => tf.sum(tf.conv2d(x, kernel as tf.Tensor4D, 1, 'same')))(w)).toThrow(
        /Conv2DBackpropFilter/,
      );
      tf.dispose([w, x]);
    } finally {
      registerWasmTrainingKernels();
    }
    expect(backendCanTrain('wasm')).toBe(true);
    const wasm = (await listBackends()).find((info) => info.name === 'wasm')!;
    expect(wasm).toMatchObject({ available: true, canTrain: true });
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('reads the test backend list from the environment', () => {
    const saved = { list: process.env.DIFFUSION_TS_TEST_BACKENDS, webgpu: process.env.DIFFUSION_TS_TEST_WEBGPU };
    try {
      delete process.env.DIFFUSION_TS_TEST_BACKENDS;
      delete process.env.DIFFUSION_TS_TEST_WEBGPU;
      expect(testBackendNames()).toEqual(['cpu', 'wasm']);
      process.env.DIFFUSION_TS_TEST_BACKENDS = 'cpu';
      expect(testBackendNames()).toEqual(['cpu']);
      process.env.DIFFUSION_TS_TEST_WEBGPU = '1';
      expect(testBackendNames()).toEqual(['cpu', 'webgpu']);
      process.env.DIFFUSION_TS_TEST_BACKENDS = 'cpu,metal';
      expect(() => testBackendNames()).toThrow(BackendError);
    } finally {
      for (const [variable, value] of [
        ['DIFFUSION_TS_TEST_BACKENDS', saved.list],
        ['DIFFUSION_TS_TEST_WEBGPU', saved.webgpu],
      ] as const) {
        if (value === undefined) delete process.env[variable];
        else process.env[variable] = value;
      }
    }
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
