import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, type SafetensorsData } from '@diffusion-ts/core';
import { captureCli } from '../testing/cli-capture.js';
import { writeTinyUNetConfig } from '../testing/tiny-unet-config.js';

const WEIGHTS = join('model', 'unet', 'diffusion_pytorch_model.safetensors');

describe('diffusion-ts train --init', () => {
  let folder: string;
  let common: string[];
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'cli-init-'));
    const config = join(folder, 'config.json');
    await writeTinyUNetConfig(config);
    common = ['train', '--dataset', 'mnist', '--limit', '8', '--batch-size', '4', '--backend', 'wasm', '--threads', '1'];
    const first = await captureCli([...common, '--config', config, '--steps', '2', '--output', join(folder, 'first')]);
    expect([first.code, first.err]).toEqual([0, '']);
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  async function weights(run: string): Promise<Map<string, SafetensorsData>> {
    const file = readSafetensors(new Uint8Array(await readFile(join(folder, run, WEIGHTS))));
    return new Map(Object.entries(file.tensors).map(([name, tensor]) => [name, tensor.data]));
  }

  it('starts model and EMA from the saved weights, from a pipeline folder or its unet/', async () => {
    // One step moves a weight by about the rate (1e-3); an EMA without warm-up moves 0.001 of that
    // towards it, so the export stays within 1e-5 of the source (with warm-up it would move 9/11 of it).
    const source = await weights('first');
    for (const [init, run] of [
      [join(folder, 'first', 'model'), 'pipeline'],
      [join(folder, 'first', 'model', 'unet'), 'unet'],
    ] as const) {
      const result = await captureCli([
        ...common,
        '--init',
        init,
        '--lr',
        '1e-3',
        '--warmup',
        '0',
        '--steps',
        '1',
        '--output',
        join(folder, run),
      ]);
      expect([result.code, result.err]).toEqual([0, '']);
      const saved = await weights(run);
      expect([...saved.keys()].sort()).toEqual([...source.keys()].sort());
      let worst = 0;
      for (const [name, values] of source) {
        const other = saved.get(name) as Float32Array;
        values.forEach((value, i) => (worst = Math.max(worst, Math.abs(Number(value) - other[i]))));
      }
      expect(worst).toBeGreaterThan(0);
      expect(worst).toBeLessThan(1e-5);
    }
  });

  it('resumes a run started from a saved model', async () => {
    const init = ['--init', join(folder, 'first', 'model'), '--checkpoint-every', '1', '--output', join(folder, 'resumed')];
    const start = await captureCli([...common, ...init, '--steps', '1']);
    expect([start.code, start.err]).toEqual([0, '']);
    const resumed = await captureCli([...common, ...init, '--steps', '2', '--resume']);
    expect([resumed.code, resumed.err]).toEqual([0, '']);
    expect(resumed.out).toMatch(/resumed .* at step 1/);
  });

  it('refuses a saved model that does not fit the run, naming what differs', async () => {
    const init = join(folder, 'first', 'model');
    const output = ['--output', join(folder, 'refused')];
    const classes = await captureCli([...common, '--init', init, '--class-conditional', '--steps', '1', ...output]);
    expect([classes.code, classes.err]).toEqual([
      2,
      expect.stringMatching(/num_class_embeds null, the data and options ask for 11/) as string,
    ]);
    const schedule = await captureCli([...common, '--init', init, '--beta-schedule', 'squaredcos_cap_v2', '--steps', '1', ...output]);
    expect(schedule.err).toMatch(/beta_schedule "linear", this run trains with "squaredcos_cap_v2"/);
    const both = await captureCli([...common, '--init', init, '--config', join(folder, 'config.json'), ...output]);
    expect(both.err).toMatch(/--init and --config exclude each other/);
    const rate = await captureCli([...common, '--init', init, '--lr', '0', ...output]);
    expect([rate.code, rate.err]).toEqual([2, expect.stringMatching(/--lr must be a positive number, got 0/) as string]);
    const missing = await captureCli([...common, '--init', join(folder, 'nowhere'), ...output]);
    expect(missing.err).toMatch(/has neither unet\/config.json nor config.json/);
  });
});
