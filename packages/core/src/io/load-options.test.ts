import { describe, expect, it } from 'vitest';
import { resolveLoadOptions, splitLoadOptions, type LoadOptions } from './load-options.js';

describe('splitLoadOptions', () => {
  it('separates every load limit from the other keys', () => {
    const signal = new AbortController().signal;
    const [limits, rest] = splitLoadOptions({
      timeoutMs: 5,
      signal,
      maxTextBytes: 1,
      maxWeightsBytes: 2,
      redirectOrigins: 'any' as const,
      unet: 'u',
      budget: 3,
    });
    expect(limits).toEqual({ timeoutMs: 5, signal, maxTextBytes: 1, maxWeightsBytes: 2, redirectOrigins: 'any' });
    expect(rest).toEqual({ unet: 'u', budget: 3 });
    expect(resolveLoadOptions(limits)).toMatchObject({ timeoutMs: 5, maxTextBytes: 1, maxWeightsBytes: 2, redirectOrigins: 'any' });
  });

  it('leaves absent limits absent', () => {
    const options: LoadOptions & { scheduler: string } = { scheduler: 'ddim' };
    expect(splitLoadOptions(options)).toEqual([{}, { scheduler: 'ddim' }]);
  });
});
