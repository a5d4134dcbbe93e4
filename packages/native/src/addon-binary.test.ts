import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { addonBinaries, requireAddonBinary } from './addon-binary.js';

const candidates = await addonBinaries();

describe('finding the addon binary', () => {
  it('lists this platform’s prebuilt N-API binaries before the one compiled at install', () => {
    for (const { file } of candidates) expect(existsSync(file)).toBe(true);
    const firstBuilt = candidates.findIndex((candidate) => !candidate.prebuilt);
    const lastPrebuilt = candidates.map((candidate) => candidate.prebuilt).lastIndexOf(true);
    if (firstBuilt >= 0) expect(lastPrebuilt).toBeLessThan(firstBuilt);
    for (const { file, prebuilt } of candidates) {
      const folder = `/prebuilds/${process.platform}-[^/]*${process.arch}[^/]*/`;
      if (prebuilt) expect(file).toMatch(new RegExp(`${folder}[^/]*\\bnapi\\b[^/]*\\.node$`));
      else expect(file).toMatch(/\/build\/diffusion_native\.node$/);
    }
  });

  it.skipIf(candidates.length === 0)('loads the first binary the check accepts, and names every one it passed over', async () => {
    const first = await requireAddonBinary(() => undefined);
    expect(first.binary).toEqual(candidates[0]);
    expect(typeof (first.exports as { info?: unknown }).info).toBe('function');
    const rejected = requireAddonBinary(() => 'was rejected by this test');
    await expect(rejected).rejects.toThrow(/was rejected by this test/);
    const message = await rejected.catch((error: unknown) => (error as Error).message);
    for (const { file } of candidates) expect(message).toContain(file);
  });
});
