import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from 'fast-png';
import { ClassConditionalPipeline } from '../pipelines/class-conditional.js';
import { loadUNet2DPipeline } from '../pipelines/unet-pipeline.js';
import { captureCli } from '../testing/cli-capture.js';
import { writeTinyUNetConfig } from '../testing/tiny-unet-config.js';

describe('diffusion-ts train --class-conditional (and --beta-schedule), then sample --class', () => {
  let folder: string;
  let config: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'cli-class-'));
    config = join(folder, 'config.json');
    await writeTinyUNetConfig(config);
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('trains on MNIST labels with a null class and writes a class-conditional folder the sampler reads', async () => {
    const run = join(folder, 'run');
    const train = await captureCli([
      'train',
      '--class-conditional',
      '--class-dropout',
      '0.2',
      '--beta-schedule',
      'squaredcos_cap_v2',
      '--dataset',
      'mnist',
      '--limit',
      '8',
      '--config',
      config,
      '--steps',
      '2',
      '--batch-size',
      '4',
      '--backend',
      'wasm',
      '--threads',
      '1',
      '--output',
      run,
    ]);
    expect(train.err).toBe('');
    expect(train.code).toBe(0);
    const unetConfig = JSON.parse(await readFile(join(run, 'model', 'unet', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(unetConfig.num_class_embeds).toBe(11); // digits 0-9 and the null class
    const schedulerConfig = JSON.parse(await readFile(join(run, 'model', 'scheduler', 'scheduler_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(schedulerConfig.beta_schedule).toBe('squaredcos_cap_v2');
    const pipeline = await loadUNet2DPipeline(join(run, 'model'));
    expect(pipeline).toBeInstanceOf(ClassConditionalPipeline);
    expect((pipeline as ClassConditionalPipeline).classCount).toBe(10);
    expect((pipeline as ClassConditionalPipeline).nullClass).toBe(10);
    pipeline.dispose();

    const before = tf.memory().numTensors;
    const output = join(folder, 'sevens.png');
    const common = ['sample', join(run, 'model'), '--steps', '2', '--count', '2', '--scale', '1', '--backend', 'wasm', '--output', output];
    const sevens = await captureCli([...common, '--class', '7', '--guidance', '2']);
    expect(sevens.err).toBe('');
    expect(sevens.out).toMatch(/2 images, DDIMScheduler 2 steps, class 7, guidance 2/);
    expect(decode(await readFile(output)).width).toBe(2 * 32 + 3 * 2);
    const all = await captureCli(common);
    expect(all.out).toMatch(/classes 0-9, guidance 1.35/);
    expect(tf.memory().numTensors).toBe(before);
    const tooBig = await captureCli([...common, '--class', '10']);
    expect([tooBig.code, tooBig.err]).toEqual([2, expect.stringMatching(/--class must be an integer from 0 to 9/) as string]);
  });

  it('refuses class options where they do not apply', async () => {
    const dropout = await captureCli(['train', '--output', join(folder, 'x'), '--class-dropout', '0.1']);
    expect([dropout.code, dropout.err]).toEqual([2, expect.stringMatching(/--class-dropout needs --class-conditional/) as string]);
    const range = await captureCli(['train', '--output', join(folder, 'x'), '--class-conditional', '--class-dropout', '2']);
    expect(range.err).toMatch(/--class-dropout must be in \[0, 1\]/);
    const schedule = await captureCli(['train', '--output', join(folder, 'x'), '--beta-schedule', 'cosine']);
    expect(schedule.err).toMatch(/--beta-schedule must be one of linear, squaredcos_cap_v2, scaled_linear, geometric, got 'cosine'/);
  });
});
