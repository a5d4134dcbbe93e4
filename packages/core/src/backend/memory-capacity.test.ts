import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { memoryCapacity, WASM_HEAP_LIMIT_BYTES } from './memory-capacity.js';

describe('memoryCapacity', () => {
  it('states the wasm heap limit (4 GiB - 64 KiB) and the machine memory for cpu', async () => {
    // 65,535 pages of 64 KiB: measured, the heap stops there (past it tfjs-backend-wasm overwrites tensors).
    expect(WASM_HEAP_LIMIT_BYTES).toBe(2 ** 32 - 2 ** 16);
    await initBackend('wasm');
    const wasm = memoryCapacity();
    expect(wasm).toMatchObject({ backend: 'wasm', totalBytes: WASM_HEAP_LIMIT_BYTES, maxTensorBytes: WASM_HEAP_LIMIT_BYTES });
    expect(memoryCapacity('wasm')).toEqual(wasm);
    expect(wasm.description).toMatch(/4 GiB/);
    await initBackend('cpu');
    const cpu = memoryCapacity();
    expect(cpu.totalBytes).toBe(totalmem());
    expect(cpu.maxTensorBytes).toBe(2 ** 34);
    expect(memoryCapacity('tensorflow').totalBytes).toBe(Number.POSITIVE_INFINITY);
  });
});
