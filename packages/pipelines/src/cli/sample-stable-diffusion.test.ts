import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SD_SMALL_FOLDER } from '../testing/sd-fixtures.js';
import { captureCli, type CapturedRun } from '../testing/cli-capture.js';

/** The CLI with its warnings muted and its progress bar (stderr) counted as error output. */
function capture(argv: string[]): Promise<CapturedRun> {
  return captureCli(argv, { muteWarnings: true, stderrWrites: true });
}

describe('diffusion-ts sample on a Stable Diffusion folder', () => {
  let folder: string;
  const common = ['--negative-prompt', 'blurry', '--steps', '2', '--guidance', '5', '--seed', '4', '--backend', 'wasm'];

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'cli-sd-'));
    const gradient = Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => (i * 7) % 256);
    await writeFile(join(folder, 'init.png'), encode({ width: 16, height: 16, data: gradient, channels: 3, depth: 8 }));
    const mask = Uint8Array.from({ length: 16 * 16 }, (_, i) => (i % 16 >= 8 ? 255 : 0));
    await writeFile(join(folder, 'mask.png'), encode({ width: 16, height: 16, data: mask, channels: 1, depth: 8 }));
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('writes text-to-image, img2img and inpainting PNGs with a progress bar', async () => {
    const text = await capture([
      'sample',
      SD_SMALL_FOLDER,
      '--prompt',
      'a fox',
      ...common,
      '--scheduler',
      'dpm++2m-karras',
      '--width',
      '24',
      '--output',
      join(folder, 'fox.png'),
    ]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/wrote .*fox\.png: 1 image of 24x16, DPMSolverMultistepScheduler 2 steps, guidance 5, seed 4, wasm/);
    expect(text.err).toMatch(/\[#+\] 2\/2 /);
    const png = decode(await readFile(join(folder, 'fox.png')));
    expect([png.width, png.height, png.channels]).toEqual([24, 16, 3]);

    const img2img = await capture([
      'sample',
      SD_SMALL_FOLDER,
      '--prompt',
      'a fox',
      ...common,
      '--init-image',
      join(folder, 'init.png'),
      '--strength',
      '0.5',
      '--count',
      '2',
      '--output',
      join(folder, 'img2img.png'),
    ]);
    expect(img2img.code).toBe(0);
    expect(img2img.out).toMatch(/2 images of 16x16, PNDMScheduler 2 steps/);

    const inpaint = await capture([
      'sample',
      SD_SMALL_FOLDER,
      '--prompt',
      'a fox',
      ...common,
      '--init-image',
      join(folder, 'init.png'),
      '--mask',
      join(folder, 'mask.png'),
      '--scheduler',
      'ddim',
      '--output',
      join(folder, 'inpaint.png'),
    ]);
    expect(inpaint.code).toBe(0);
    expect(inpaint.out).toMatch(/1 image of 16x16, DDIMScheduler 2 steps/);
  });

  it('reports bad input clearly', async () => {
    const noPrompt = await capture(['sample', SD_SMALL_FOLDER, '--backend', 'wasm']);
    expect(noPrompt.code).toBe(2);
    expect(noPrompt.err).toMatch(/--prompt is required: .* is a StableDiffusionPipeline folder/);
    const size = await capture([
      'sample',
      SD_SMALL_FOLDER,
      '--prompt',
      'x',
      '--height',
      '20',
      '--steps',
      '1',
      '--backend',
      'wasm',
      '--output',
      join(folder, 'x.png'),
    ]);
    expect(size.code).toBe(1);
    expect(size.err).toMatch(/height must be a positive multiple of 8, got 20/);
    const mask = await capture(['sample', SD_SMALL_FOLDER, '--prompt', 'x', '--mask', join(folder, 'mask.png'), '--backend', 'wasm']);
    expect(mask.err).toMatch(/--mask needs --init-image/);
    const scheduler = await capture(['sample', SD_SMALL_FOLDER, '--prompt', 'x', '--scheduler', 'nope', '--backend', 'wasm']);
    expect(scheduler.err).toMatch(/unknown scheduler 'nope'/);
  });
});
