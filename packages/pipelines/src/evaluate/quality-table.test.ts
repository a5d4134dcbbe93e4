import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@diffusion-ts/core';
import { UNet2DModel } from '@diffusion-ts/models';
import { DDPMScheduler } from '@diffusion-ts/schedulers';
import { describe, expect, it } from 'vitest';
import { UnconditionalPipeline } from '../pipelines/unconditional.js';
import { TINY_UNET } from '@diffusion-ts/models/testing';
import { MnistClassifier } from './mnist-classifier.js';
import { formatQualityTable, parseSamplerSettings, qualityTable, realImagesQuality, referenceStatistics } from './quality-table.js';

describe('parseSamplerSettings', () => {
  it('reads scheduler:steps lists and names a bad entry', () => {
    expect(parseSamplerSettings('ddim:50, pndm:10x500')).toEqual([
      { scheduler: 'ddim', steps: 50 },
      { scheduler: 'pndm', steps: 10, count: 500 },
    ]);
    expect(() => parseSamplerSettings('pndm:10x0')).toThrow(/'pndm:10x0'/);
    expect(() => parseSamplerSettings('ddim:50,fancy:10')).toThrow(/'fancy:10': unknown scheduler 'fancy'/);
    expect(() => parseSamplerSettings('LMSDiscreteScheduler:10')).toThrow(/'LMSDiscreteScheduler:10': .*does not implement/);
    expect(parseSamplerSettings('DDIMScheduler:5')).toEqual([{ scheduler: 'DDIMScheduler', steps: 5 }]);
    // Every short name of the schedulers' table, the new solvers included.
    expect(
      parseSamplerSettings('dpm++2m:10,dpm++2m-karras:20x8,dpm++2m-sde:10,dpm++3m:10,unipc:10,euler:20,euler-a:50,heun:10,lcm:4'),
    ).toEqual([
      { scheduler: 'dpm++2m', steps: 10 },
      { scheduler: 'dpm++2m-karras', steps: 20, count: 8 },
      { scheduler: 'dpm++2m-sde', steps: 10 },
      { scheduler: 'dpm++3m', steps: 10 },
      { scheduler: 'unipc', steps: 10 },
      { scheduler: 'euler', steps: 20 },
      { scheduler: 'euler-a', steps: 50 },
      { scheduler: 'heun', steps: 10 },
      { scheduler: 'lcm', steps: 4 },
    ]);
    expect(parseSamplerSettings('UniPCMultistepScheduler:10,flow-euler:28')).toHaveLength(2);
    expect(() => parseSamplerSettings('ddpm:0')).toThrow(/'ddpm:0'/);
  });
});

describe('realImagesQuality', () => {
  it('scores real images against their own statistics as distance ~0', async () => {
    await initBackend('cpu');
    const classifier = MnistClassifier.create(0, { imageSize: 8, channels: [4, 6], strides: [2, 1], numClasses: 10 });
    const dataset = {
      images: Float32Array.from({ length: 12 * 64 }, (_, i) => Math.sin(i * 0.37)),
      shape: [12, 8, 8, 1] as [number, number, number, number],
    };
    const reference = await referenceStatistics(classifier, dataset);
    const before = tf.memory().numTensors;
    const quality = await realImagesQuality(classifier, dataset, reference);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(quality.frechetDistance)).toBeLessThan(1e-6);
    expect(quality.spread.counts.reduce((a, b) => a + b, 0)).toBe(12);
    expect(quality.compareFrechetDistance).toBeUndefined();
    const compared = await realImagesQuality(classifier, dataset, reference, 6);
    expect(Number.isFinite(compared.compareFrechetDistance)).toBe(true);
    expect(compared.frechetDistance).toBe(quality.frechetDistance);
    expect((await realImagesQuality(classifier, dataset, reference, 13)).compareFrechetDistance).toBeUndefined();
    expect(tf.memory().numTensors).toBe(before);
    classifier.dispose();
  });
});

describe('qualityTable', () => {
  it('samples each setting, scores it and formats the table', async () => {
    await initBackend('cpu');
    const folder = await mkdtemp(join(tmpdir(), 'quality-'));
    try {
      const pipeline = new UnconditionalPipeline({ unet: UNet2DModel.fromConfig(TINY_UNET, { seed: 1 }), scheduler: new DDPMScheduler() });
      await pipeline.save(folder);
      pipeline.dispose();
      const classifier = MnistClassifier.create(0, { imageSize: 8, channels: [4, 6], strides: [2, 1], numClasses: 10 });
      const images = Float32Array.from({ length: 8 * 64 }, (_, i) => Math.sin(i));
      const reference = await referenceStatistics(classifier, { images, shape: [8, 8, 8, 1] });
      const before = tf.memory().numTensors;
      const rows = await qualityTable(
        folder,
        classifier,
        reference,
        [
          { scheduler: 'ddim', steps: 2 },
          { scheduler: 'pndm', steps: 2, count: 4 },
        ],
        {
          count: 3,
          batchSize: 2,
          compareCount: 2,
        },
      );
      expect(tf.memory().numTensors).toBe(before);
      expect(rows.map((row) => [row.scheduler, row.steps, row.count])).toEqual([
        ['ddim', 2, 3],
        ['pndm', 2, 4],
      ]);
      for (const row of rows) {
        expect(Number.isFinite(row.frechetDistance)).toBe(true);
        expect(Number.isFinite(row.compareFrechetDistance)).toBe(true);
        expect(row.spread.counts.reduce((a, b) => a + b)).toBe(row.count);
      }
      expect(formatQualityTable(rows)).toMatch(/\| DDIM \| 2 \| 3 \| [-\d.]+ \| [\d.]+ \|/);
      expect(formatQualityTable(rows, 2)).toMatch(/first 2 images/);
      classifier.dispose();
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
