import { describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { syncReadbackAllowed } from './sync-readback.js';
import { webgpuTestable } from '../testing/index.js';

describe('syncReadbackAllowed', () => {
  it('allows read-backs on cpu and wasm, not on webgpu', async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      await initBackend(backend);
      expect(syncReadbackAllowed()).toBe(true);
    }
    if (await webgpuTestable()) {
      await initBackend('webgpu');
      expect(syncReadbackAllowed()).toBe(false);
    }
  });
});
