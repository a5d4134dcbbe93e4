import { WASM_HEAP_LIMIT_BYTES, type MemoryCapacity } from '@diffusion-ts/core';
import { describe, expect, it } from 'vitest';
import { capMemoryLimit, MEMORY_HEADROOM_BYTES, MemoryPlanError, planMemory, type MemoryPlanRow } from './memory-plan.js';

const GiB = 2 ** 30;
const WASM: MemoryCapacity = {
  backend: 'wasm',
  totalBytes: WASM_HEAP_LIMIT_BYTES,
  maxTensorBytes: WASM_HEAP_LIMIT_BYTES,
  description: 'the wasm heap',
};
const WEBGPU: MemoryCapacity = {
  backend: 'webgpu',
  totalBytes: Number.POSITIVE_INFINITY,
  maxTensorBytes: 256 * 2 ** 20,
  description: 'buffers',
};

const row = (component: string, weightGiB: number, activationGiB: number, largestGiB = weightGiB / 10): MemoryPlanRow => ({
  component,
  weightBytes: weightGiB * GiB,
  activationBytes: activationGiB * GiB,
  largestTensorBytes: largestGiB * GiB,
});

describe('planMemory against core memoryCapacity', () => {
  it('keeps every component resident when all fit, else one stage at a time, else names the stage', () => {
    expect(planMemory([row('unet', 1, 0.5), row('vae', 0.2, 0.5)], WASM)).toMatchObject({
      residency: 'resident',
      limitBytes: WASM_HEAP_LIMIT_BYTES - MEMORY_HEADROOM_BYTES,
    });
    expect(planMemory([row('unet', 2.5, 0.5), row('vae', 1, 0.5)], WASM).residency).toBe('sequential');
    expect(() => planMemory([row('unet', 2.5, 0.5), row('vae', 1, 0.5)], WASM, 'resident')).toThrow(/all components together need/);
    // A tensor as large as the heap: the stage (weights and activations) is what the message names.
    const error = (() => {
      try {
        planMemory([row('unet', 5, 1, 5)], WASM);
      } catch (caught) {
        return caught as MemoryPlanError;
      }
    })();
    expect(error).toBeInstanceOf(MemoryPlanError);
    expect(error).toMatchObject({ component: 'unet', backend: 'wasm' });
    expect(error?.message).toMatch(/the unet needs 5\.00 GiB of float32 weights .* \(3\.94 GiB usable of 4\.00 GiB; the wasm heap\)/);
  });

  it('checks single tensors where the backend limits them below the whole (WebGPU buffers)', () => {
    expect(planMemory([row('unet', 3, 1, 0.1)], WEBGPU)).toMatchObject({ residency: 'resident', limitBytes: null });
    expect(() => planMemory([row('unet', 3, 1, 0.5)], WEBGPU)).toThrow(
      /the unet has a 512 MiB weight tensor, more than one webgpu tensor may hold \(256 MiB; buffers\)/,
    );
  });

  it('caps the limit at memoryLimit (plus the headroom), never above the backend', () => {
    expect(capMemoryLimit(WASM, undefined)).toBe(WASM);
    expect(capMemoryLimit(WASM, 8 * GiB)).toBe(WASM);
    const capped = capMemoryLimit(WEBGPU, GiB);
    expect(capped).toMatchObject({
      totalBytes: GiB + MEMORY_HEADROOM_BYTES,
      description: 'memoryLimit 1.00 GiB',
      maxTensorBytes: WEBGPU.maxTensorBytes,
    });
    expect(() => planMemory([row('unet', 1, 0.5, 0.1)], capped)).toThrow(MemoryPlanError);
    expect(() => capMemoryLimit(WASM, 0)).toThrow(/memoryLimit must be a positive number of bytes/);
  });
});
