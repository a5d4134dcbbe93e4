import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureCli } from '../testing/cli-capture.js';
import { writeTinyUNetConfig } from '../testing/tiny-unet-config.js';

describe('diffusion-ts train --lr-schedule', () => {
  let folder: string;
  let common: string[];
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'cli-lr-schedule-'));
    const config = join(folder, 'config.json');
    await writeTinyUNetConfig(config);
    common = [
      'train',
      '--dataset',
      'mnist',
      '--limit',
      '8',
      '--batch-size',
      '4',
      '--backend',
      'wasm',
      '--threads',
      '1',
      '--config',
      config,
    ];
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('decays the rate linearly to 0 at --steps, as the log shows', async () => {
    const output = join(folder, 'linear');
    const run = await captureCli([
      ...common,
      '--steps',
      '4',
      '--lr',
      '3e-3',
      '--warmup',
      '1',
      '--lr-schedule',
      'linear',
      '--output',
      output,
    ]);
    expect([run.code, run.err]).toEqual([0, '']);
    const log = (await readFile(join(output, 'training-log.jsonl'), 'utf8')).trim().split('\n');
    const rates = log.map((line) => (JSON.parse(line) as { learningRate: number }).learningRate);
    [3e-3, 2e-3, 1e-3, 0].forEach((rate, i) => expect(rates[i]).toBeCloseTo(rate, 12));
  });

  it('refuses unknown names and a decay that ends inside the warm-up', async () => {
    const output = ['--output', join(folder, 'refused')];
    const unknown = await captureCli([...common, '--lr-schedule', 'polynomial', ...output]);
    expect([unknown.code, unknown.err]).toEqual([
      2,
      expect.stringMatching(/--lr-schedule must be one of constant, linear, cosine, got 'polynomial'/) as string,
    ]);
    const short = await captureCli([...common, '--lr-schedule', 'cosine', '--steps', '50', '--warmup', '50', ...output]);
    expect(short.err).toMatch(/--steps \(50\) must exceed --warmup \(50\)/);
  });
});
