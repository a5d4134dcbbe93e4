import * as tf from '@tensorflow/tfjs-core';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, encode } from 'fast-png';
import { initBackend } from '@diffusion-ts/core';
import { UNet2DModel } from '@diffusion-ts/models';
import { DDPMScheduler } from '@diffusion-ts/schedulers';
import { UnconditionalPipeline } from '../pipelines/unconditional.js';
import { TINY_UNET } from '@diffusion-ts/models/testing';
import { captureCli } from '../testing/cli-capture.js';
import { COMMANDS } from './main.js';

const capture = captureCli;

describe('diffusion-ts CLI', () => {
  let folder: string;
  beforeAll(async () => {
    await initBackend('cpu');
    folder = await mkdtemp(join(tmpdir(), 'cli-test-'));
    const unet = UNet2DModel.fromConfig(TINY_UNET, { seed: 3 });
    await new UnconditionalPipeline({ unet, scheduler: new DDPMScheduler() }).save(join(folder, 'model'));
    await new UnconditionalPipeline({ unet, scheduler: new DDPMScheduler({ numTrainTimesteps: 8 }) }).save(join(folder, 'short'));
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

  it('info lists every backend and says whether the native kernels run wasm', async () => {
    const { code, out } = await capture(['info']);
    expect(code).toBe(0);
    for (const name of ['webgpu', 'cuda', 'wasm', 'cpu']) expect(out).toMatch(new RegExp(`^${name} `, 'm'));
    expect(out).toMatch(/^wasm native kernels: (on \((avx512|avx2-fma|generic), \d+ threads\)|off \(.+\))$/m);
    await initBackend('cpu');
  });

  it('samples a PNG grid from a saved model folder', async () => {
    const output = join(folder, 'grid.png');
    const before = tf.memory().numTensors;
    const result = await capture([
      'sample',
      join(folder, 'model'),
      '--scheduler',
      'ddim',
      '--steps',
      '2',
      '--count',
      '3',
      '--seed',
      '1',
      '--scale',
      '1',
      '--backend',
      'cpu',
      '--output',
      output,
    ]);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/wrote .*grid\.png: 3 images, DDIMScheduler 2 steps/);
    const png = decode(await readFile(output));
    expect([png.width, png.height, png.channels]).toEqual([2 * 8 + 3 * 2, 2 * 8 + 3 * 2, 1]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('samples with any short name of the schedulers table (dpm++2m-karras, unipc, euler-a)', async () => {
    for (const [name, className] of [
      ['dpm++2m-karras', 'DPMSolverMultistepScheduler'],
      ['unipc', 'UniPCMultistepScheduler'],
      ['euler-a', 'EulerAncestralDiscreteScheduler'],
    ]) {
      const output = join(folder, `grid-${name}.png`);
      const result = await capture([
        'sample',
        join(folder, 'model'),
        '--scheduler',
        name,
        '--steps',
        '3',
        '--count',
        '2',
        '--backend',
        'cpu',
        '--output',
        output,
      ]);
      expect([name, result.err, result.code]).toEqual([name, '', 0]);
      expect(result.out).toContain(`2 images, ${className} 3 steps`);
    }
  });

  it('computes bits/dim on a folder of test images', async () => {
    const images = join(folder, 'digits');
    await mkdir(images);
    for (const name of ['a.png', 'b.png']) {
      const data = Uint8Array.from({ length: 64 }, (_, i) => (i * (name === 'a.png' ? 3 : 7)) % 256);
      await writeFile(join(images, name), encode({ width: 8, height: 8, data, channels: 1, depth: 8 }));
    }
    const result = await capture(['eval', join(folder, 'short'), '--dataset', images, '--backend', 'cpu']);
    expect(result.err).toBe('');
    expect(result.out).toMatch(/bits\/dim \d+\.\d+ on 2 images of .*digits/);
  });

  it('reports bad input clearly', async () => {
    const scheduler = await capture(['sample', join(folder, 'model'), '--scheduler', 'fancy', '--backend', 'cpu']);
    expect(scheduler.code).toBe(2);
    expect(scheduler.err).toMatch(/unknown scheduler 'fancy' \(expected one of ddpm, ddim, pndm, euler, /);
    const missingClass = await capture(['sample', join(folder, 'model'), '--scheduler', 'LMSDiscreteScheduler', '--backend', 'cpu']);
    expect(missingClass.code).toBe(2);
    expect(missingClass.err).toMatch(/needs LMSDiscreteScheduler, which this version of @diffusion-ts\/schedulers does not implement/);
    const steps = await capture(['sample', join(folder, 'model'), '--steps', 'many', '--backend', 'cpu']);
    expect(steps.err).toMatch(/--steps must be an integer/);
    const missing = await capture(['sample', join(folder, 'nope'), '--backend', 'cpu']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/model_index\.json is missing/);
    const tooMany = await capture([
      'sample',
      join(folder, 'model'),
      '--steps',
      '2000',
      '--backend',
      'cpu',
      '--output',
      join(folder, 'x.png'),
    ]);
    expect(tooMany.err).toMatch(/exceeds/);
    const train = await capture(['train']);
    expect(train.err).toMatch(/--output <folder> is required/);
  });

  it('reports negative numbers and work too large for the backend clearly (issue 17)', async () => {
    for (const argv of [['--steps', '-1'], ['--steps=-1'], ['--count', '-5'], ['--seed', '-1'], ['--eta', '-0.5']]) {
      const result = await capture(['sample', join(folder, 'model'), ...argv, '--backend', 'cpu', '--output', join(folder, 'x.png')]);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.err).not.toMatch(/ambiguous/);
      expect(result.err).toMatch(new RegExp(`--${argv[0].replace(/^--|=.*$/g, '')} must be (an integer from|a number >=)`));
    }
    const before = tf.memory().numTensors;
    const started = performance.now();
    const huge = await capture([
      'sample',
      join(folder, 'model'),
      '--count',
      '1e6',
      '--steps',
      '1',
      '--backend',
      'cpu',
      '--output',
      join(folder, 'x.png'),
    ]);
    expect(huge.code).toBe(1);
    expect(huge.err).toMatch(/one step at batch 1000000 of 8x8 needs about .* more than the cpu backend can hold/);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(tf.memory().numTensors).toBe(before);
  });
});
