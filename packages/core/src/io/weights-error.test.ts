import { describe, expect, it } from 'vitest';
import * as core from '../index.js';

describe('one error class per kind (issue 17)', () => {
  it('exports ConfigError, WeightsError (SafetensorsError for malformed files), LoadError and BackendError', async () => {
    expect(() => core.parseJsonText('[', 'config.json')).toThrow(core.ConfigError);
    let malformed: unknown;
    try {
      core.readSafetensors(new Uint8Array(3));
    } catch (error) {
      malformed = error;
    }
    expect(malformed).toBeInstanceOf(core.SafetensorsError);
    expect(malformed).toBeInstanceOf(core.WeightsError);
    expect((malformed as Error).name).toBe('SafetensorsError');
    expect(new core.WeightsError('w: missing', ['w']).missing).toEqual(['w']);
    await expect(core.openPretrained('/nonexistent-folder-17').readJson('config.json')).rejects.toBeInstanceOf(core.LoadError);
    await expect(core.initBackend('tpu' as never)).rejects.toBeInstanceOf(core.BackendError);
    for (const ErrorClass of [core.ConfigError, core.WeightsError, core.SafetensorsError, core.LoadError, core.BackendError]) {
      expect(ErrorClass.prototype).toBeInstanceOf(Error);
    }
  });
});
