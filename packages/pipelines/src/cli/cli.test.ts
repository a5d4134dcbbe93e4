import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decode } from 'fast-png';
import { initBackend } from '@diffusion-ts/core';
import { UNet2DModel } from '@diffusion-ts/models';
import { DDPMScheduler } from '@diffusion-ts/schedulers';
import { UnconditionalPipeline } from '../pipelines/unconditional.js';
import { TINY_UNET } from '../testing/tiny-models.js';
import { COMMANDS, runCli } from './main.js';

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void out.push(parts.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void err.push(parts.join(' ')));
  try {
    const code = await runCli(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('diffusion-ts CLI', () => {
  let folder: string;
  beforeAll(async () => {
    await initBackend('cpu');
    folder = await mkdtemp(join(tmpdir(), 'cli-test-'));
    const unet = UNet2DModel.fromConfig(TINY_UNET, { seed: 3 });
    await new UnconditionalPipeline({ unet, scheduler: new DDPMScheduler() }).save(join(folder, 'model'));
    unet.dispose();
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('prints help for the tool and every command', async () => {
    const top = await capture(['--help']);
    expect(top.code).toBe(0);
    for (const command of COMMANDS) {
      expect(top.out).toContain(command.name);
      const help = await capture([command.name, '--help']);
      expect(help.code).toBe(0);
      expect(help.out).toContain(`Usage: diffusion-ts ${command.name}`);
    }
    const unknown = await capture(['paint']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/unknown command 'paint'/);
  });

  it('samples a PNG grid from a saved model folder', async () => {
    const output = join(folder, 'grid.png');
    const before = tf.memory().numTensors;
    const result = await capture(['sample', join(folder, 'model'), '--scheduler', 'ddim', '--steps', '2', '--count', '3', '--seed', '1', '--scale', '1', '--backend', 'cpu', '--output', output]);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/wrote .*grid\.png: 3 images, DDIMScheduler 2 steps/);
    const png = decode(await readFile(output));
    expect([png.width, png.height, png.channels]).toEqual([2 * 8 + 3 * 2, 2 * 8 + 3 * 2, 1]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reports bad input clearly', async () => {
    const scheduler = await capture(['sample', join(folder, 'model'), '--scheduler', 'euler', '--backend', 'cpu']);
    expect(scheduler.code).toBe(2);
    expect(scheduler.err).toMatch(/unknown scheduler 'euler'/);
    const steps = await capture(['sample', join(folder, 'model'), '--steps', 'many', '--backend', 'cpu']);
    expect(steps.err).toMatch(/--steps must be an integer/);
    const missing = await capture(['sample', join(folder, 'nope'), '--backend', 'cpu']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/model_index\.json is missing/);
    const tooMany = await capture(['sample', join(folder, 'model'), '--steps', '2000', '--backend', 'cpu', '--output', join(folder, 'x.png')]);
    expect(tooMany.err).toMatch(/exceeds/);
    const train = await capture(['train']);
    expect(train.err).toMatch(/--output <folder> is required/);
  });
});
