import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { memoryCapacity, WASM_HEAP_LIMIT_BYTES } from './memory-capacity.js';

describe('memoryCapacity', () => {
  it('states the wasm heap limit (4 GiB) and the machine memory for cpu', async () => {
    await initBackend('wasm');
    const wasm = memoryCapacity();
    expect(wasm).toMatchObject({ backend: 'wasm', totalBytes: WASM_HEAP_LIMIT_BYTES, maxTensorBytes: 2 ** 32 });
    expect(wasm.description).toMatch(/4 GiB/);
    await initBackend('cpu');
    const cpu = memoryCapacity();
    expect(cpu.totalBytes).toBe(totalmem());
    expect(cpu.maxTensorBytes).toBe(2 ** 34);
    expect(memoryCapacity('tensorflow').totalBytes).toBe(Number.POSITIVE_INFINITY);
  });
});
