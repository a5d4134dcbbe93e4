import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@diffusion-ts/core';
import { UNet2DModel } from '@diffusion-ts/models';
import { DDPMScheduler } from '@diffusion-ts/schedulers';
import { describe, expect, it } from 'vitest';
import { ClassConditionalPipeline } from '../pipelines/class-conditional.js';
import { UnconditionalPipeline } from '../pipelines/unconditional.js';
import { TINY_UNET } from '@diffusion-ts/models/testing';
import { MnistClassifier } from './mnist-classifier.js';
import { askedClassAccuracy } from './quality.js';
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

describe('qualityTable on a class-conditional folder', () => {
  it('asks for every class in turn with guidance and reports the share classified as asked', async () => {
    await initBackend('cpu');
    const folder = await mkdtemp(join(tmpdir(), 'quality-class-'));
    try {
      const unet = UNet2DModel.fromConfig({ ...TINY_UNET, numClassEmbeds: 11 }, { seed: 1 });
      await new ClassConditionalPipeline({ unet, scheduler: new DDPMScheduler() }).save(folder);
      unet.dispose();
      const classifier = MnistClassifier.create(0, { imageSize: 8, channels: [4, 6], strides: [2, 1], numClasses: 10 });
      const reference = await referenceStatistics(classifier, {
        images: Float32Array.from({ length: 8 * 64 }, (_, i) => Math.cos(i)),
        shape: [8, 8, 8, 1],
      });
      const before = tf.memory().numTensors;
      const [row] = await qualityTable(folder, classifier, reference, [{ scheduler: 'ddim', steps: 2 }], {
        count: 12,
        batchSize: 5,
        guidanceScale: 2,
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(row.guidanceScale).toBe(2);
      expect(row.classAccuracy).toBeGreaterThanOrEqual(0);
      expect(row.perClassAccuracy).toHaveLength(10);
      expect(formatQualityTable([row])).toMatch(/\| DDIM \| 2 \| 2 \| 12 \| [-\d.]+ \| [\d.]+% \|/);
      classifier.dispose();
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('askedClassAccuracy', () => {
  it('counts the images classified as asked, overall and per class', () => {
    const { classAccuracy, perClassAccuracy } = askedClassAccuracy([0, 1, 1, 2, 2, 2], [0, 1, 2, 2, 2, 0], 4);
    expect(classAccuracy).toBeCloseTo(4 / 6);
    expect(perClassAccuracy.slice(0, 3)).toEqual([0.5, 1, 2 / 3]);
    expect(perClassAccuracy[3]).toBeNaN();
    expect(() => askedClassAccuracy([0], [0, 1], 2)).toThrow(/2 classes asked for 1 images/);
    expect(() => askedClassAccuracy([0], [5], 2)).toThrow(/class 5 is not in \[0, 2\)/);
  });
});
