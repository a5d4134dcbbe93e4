// `npm run demo` as the README runs it: the built demo in a child process, on the shipped models.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findShippedModel, SHIPPED_CLASS_MODEL_FOLDER } from './model-location.js';

// The built demo (`npm test` builds before it runs the suites).
const DEMO = fileURLToPath(new URL('../dist/demo.js', import.meta.url));

/** Runs the demo with `args`; resolves with its exit code and output. */
function demo(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [DEMO, ...args], { cwd }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, out: `${stdout}${stderr}` });
    });
  });
}

describe('npm run demo', () => {
  let folder: string;
  beforeAll(async () => {
    if (!existsSync(DEMO)) throw new Error(`${DEMO} is missing: run \`npm run build\` first`);
    folder = await mkdtemp(join(tmpdir(), 'demo-'));
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('draws a grid from the shipped unconditional model', async () => {
    const { code, out } = await demo(['--count', '2', '--steps', '2', '--output', 'any.png'], folder);
    expect(out).toMatch(/models[/\\]mnist-ddpm \([\d]+ parameters\)/);
    expect(code).toBe(0);
    expect(out).toMatch(/wrote .*any\.png: 2 digits, UniPC 2 steps/);
    expect(decode(await readFile(join(folder, 'any.png'))).width).toBeGreaterThanOrEqual(2 * 32);
  });

  it.skipIf(findShippedModel(SHIPPED_CLASS_MODEL_FOLDER) === undefined)('draws the digit asked for with --digit', async () => {
    const { code, out } = await demo(['--digit', '7', '--count', '2', '--steps', '2', '--output', 'sevens.png'], folder);
    expect(out).toMatch(/models[/\\]mnist-class-ddpm/);
    expect(code).toBe(0);
    expect(out).toMatch(/wrote .*sevens\.png: 2 images of the digit 7 \(guidance 1.35\), UniPC 2 steps/);
  });

  it('names a bad option value', async () => {
    const { code, out } = await demo(['--digit', '12'], folder);
    expect(code).toBe(2);
    expect(out).toMatch(/--digit must be an integer from 0 to 9, got '12'/);
    const scheduler = await demo(['--scheduler', 'fancy'], folder);
    expect([scheduler.code, scheduler.out]).toEqual([2, expect.stringMatching(/--scheduler: unknown scheduler 'fancy'/) as string]);
  });
});
