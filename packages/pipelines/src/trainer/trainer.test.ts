import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, registerWasmTrainingKernels } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { UNet2DModel } from '@diffusion-ts/models';
import { DDPMScheduler } from '@diffusion-ts/schedulers';
import { BatchIterator } from '../data/dataset.js';
import type { ImageDataset } from '../data/mnist.js';
import { TINY_CLASS_UNET, TINY_UNET } from '@diffusion-ts/models/testing';
import { Trainer, type TrainerOptions } from './trainer.js';

/** Four 8x8 images: a bright square in a different corner of each. */
function tinyData(): ImageDataset {
  const images = new Float32Array(4 * 64).fill(-1);
  for (let n = 0; n < 4; n++) {
    const top = n < 2 ? 0 : 4;
    const left = n % 2 === 0 ? 0 : 4;
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) images[n * 64 + (top + y) * 8 + left + x] = 1;
  }
  return { images, shape: [4, 8, 8, 1] };
}

/** The four images labelled 0, 1, 2, 0 (class 3 is the tiny class UNet's null class). */
function labelledData(): ImageDataset {
  return { ...tinyData(), labels: Int32Array.from([0, 1, 2, 0]) };
}

/** A class-conditional tiny UNet whose `predict` records the class labels it is given. */
function recordingClassModel(): { model: UNet2DModel; seen: number[][] } {
  const model = UNet2DModel.fromConfig(TINY_CLASS_UNET, { seed: 2 });
  const seen: number[][] = [];
  const predict = model.predict.bind(model);
  model.predict = (sample, timestep, options = {}) => {
    if (options.classLabels !== undefined) seen.push([...options.classLabels.dataSync()]);
    return predict(sample, timestep, options);
  };
  return { model, seen };
}

function makeTrainer(outputFolder: string | undefined, extra: Partial<TrainerOptions> = {}): { trainer: Trainer; model: UNet2DModel } {
  const model = UNet2DModel.fromConfig(TINY_UNET, { seed: 2 });
  const trainer = new Trainer({
    model,
    scheduler: new DDPMScheduler({ numTrainTimesteps: 100 }),
    data: new BatchIterator(tinyData(), { batchSize: 4, seed: 5, randomFlip: true }),
    optimizer: { learningRate: 3e-3, warmupSteps: 2 },
    ema: { decay: 0.9 },
    seed: 9,
    outputFolder,
    checkpointEvery: outputFolder ? 3 : 0,
    ...extra,
  });
  return { trainer, model };
}

// tfjs' cpu Conv2DBackpropFilter is a naive loop (seconds per step even for this tiny UNet), so
// the training tests run on the backends with fast gradient kernels (wasm with core's kernels).
const TRAINING_BACKENDS = testBackendNames().filter((name) => name !== 'cpu');

describe.each(TRAINING_BACKENDS)('Trainer on %s', (backend) => {
  let folder: string;
  beforeAll(async () => {
    await initBackend(backend);
    folder = await mkdtemp(join(tmpdir(), 'trainer-test-'));
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('lowers the loss on tiny data without leaking tensors', async () => {
    const { trainer, model } = makeTrainer(undefined, { gradientAccumulationSteps: 2 });
    await trainer.trainStep();
    const before = tf.memory().numTensors;
    const entries = await trainer.train({ steps: 20, progress: false });
    expect(tf.memory().numTensors).toBe(before);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const losses = entries.map((entry) => entry.loss);
    expect(mean(losses.slice(-6))).toBeLessThan(mean(losses.slice(0, 6)));
    trainer.dispose();
    model.dispose();
  });

  it('resumes from a checkpoint with exactly the losses of an uninterrupted run', async () => {
    const straight = makeTrainer(undefined);
    const expected = (await straight.trainer.train({ steps: 6, progress: false })).map((entry) => entry.loss);
    straight.trainer.dispose();
    straight.model.dispose();

    const run = join(folder, `resume-${backend}`);
    const first = makeTrainer(run);
    await first.trainer.train({ steps: 4, progress: false }); // checkpoint at step 3, then one more step
    first.trainer.dispose();
    first.model.dispose();

    const second = makeTrainer(run);
    await second.trainer.loadCheckpoint();
    expect(second.trainer.step).toBe(3);
    const resumed = (await second.trainer.train({ steps: 6, progress: false })).map((entry) => entry.loss);
    expect(resumed).toEqual(expected.slice(3));
    const log = (await readFile(join(run, 'training-log.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { step: number }).step);
    expect(log).toEqual([1, 2, 3, 4, 5, 6]);
    second.trainer.dispose();
    second.model.dispose();
  });

  it('refuses to start when the backend lacks the convolution weight gradient', () => {
    if (backend !== 'wasm') return;
    tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
    try {
      expect(() => makeTrainer(undefined)).toThrow(/Training is not possible on the wasm backend/);
    } finally {
      registerWasmTrainingKernels();
    }
    const { trainer, model } = makeTrainer(undefined);
    trainer.dispose();
    model.dispose();
  });

  it('trains with L_hybrid on a learned-range model', async () => {
    const model = UNet2DModel.fromConfig({ ...TINY_UNET, outChannels: 2 }, { seed: 2 });
    const trainer = new Trainer({
      model,
      scheduler: new DDPMScheduler({ numTrainTimesteps: 100, varianceType: 'learned_range' }),
      data: new BatchIterator(tinyData(), { batchSize: 2 }),
      loss: 'hybrid',
      snrGamma: 5,
    });
    const { loss } = await trainer.trainStep();
    expect(Number.isFinite(loss)).toBe(true);
    trainer.dispose();
    model.dispose();
  });

  it('keeps the previous checkpoint when writing a new one fails', async () => {
    const run = join(folder, `failing-${backend}`);
    const { trainer, model } = makeTrainer(run);
    await trainer.train({ steps: 3, progress: false });
    const saved = await readFile(trainer.checkpointPath);
    trainer.ema!.shadows[0].dispose();
    await expect(trainer.saveCheckpoint()).rejects.toThrow();
    expect(Buffer.compare(await readFile(trainer.checkpointPath), saved)).toBe(0);
    expect((await readdir(run)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const other = makeTrainer(undefined, { model: UNet2DModel.fromConfig({ ...TINY_UNET, blockOutChannels: [8, 8] }) });
    await expect(other.trainer.loadCheckpoint(trainer.checkpointPath)).rejects.toThrow(/has shape|lacks/);
    other.trainer.dispose();
    trainer.dispose();
    model.dispose();
  });

  it('refuses to resume a checkpoint trained with other betas or another prediction type, before touching the weights', async () => {
    const run = join(folder, `schedule-${backend}`);
    const { trainer, model } = makeTrainer(run);
    await trainer.train({ steps: 3, progress: false });
    for (const [scheduler, pattern] of [
      [
        new DDPMScheduler({ numTrainTimesteps: 100, betaSchedule: 'squaredcos_cap_v2' }),
        /betaSchedule linear.*betaSchedule squaredcos_cap_v2/,
      ],
      [new DDPMScheduler({ numTrainTimesteps: 100, betaEnd: 0.01 }), /betaSum/],
      [
        new DDPMScheduler({ numTrainTimesteps: 100, predictionType: 'v_prediction' }),
        /predictionType epsilon.*predictionType v_prediction/,
      ],
    ] as const) {
      const other = makeTrainer(undefined, { scheduler });
      const before = await other.model.trainableVariables()[0].data();
      await expect(other.trainer.loadCheckpoint(trainer.checkpointPath)).rejects.toThrow(pattern);
      expect(await other.model.trainableVariables()[0].data()).toEqual(before);
      expect(other.trainer.step).toBe(0);
      other.trainer.dispose();
      other.model.dispose();
    }
    trainer.dispose();
    model.dispose();
  });

  it('drops class labels to the null class at the classDropout rate, without leaking tensors', async () => {
    const { model, seen } = recordingClassModel();
    const data = new BatchIterator(labelledData(), { batchSize: 4, seed: 1 });
    const trainer = new Trainer({
      model,
      scheduler: new DDPMScheduler({ numTrainTimesteps: 100 }),
      data,
      classConditional: true,
      classDropout: 0.5,
    });
    await trainer.trainStep();
    const before = tf.memory().numTensors;
    await trainer.train({ steps: 25, progress: false });
    expect(tf.memory().numTensors).toBe(before);
    const labels = seen.flat();
    const dropped = labels.filter((label) => label === 3).length / labels.length;
    expect(dropped).toBeGreaterThan(0.3);
    expect(dropped).toBeLessThan(0.7);
    // The labels kept are the batch's own: every batch holds its images' labels or the null class.
    for (const batch of seen) expect(batch.filter((label) => label === 0 || label === 3).length).toBeGreaterThanOrEqual(2);
    trainer.dispose();
    model.dispose();
  });

  it('passes labels unchanged without classDropout, and checks the dropout options', async () => {
    const { model, seen } = recordingClassModel();
    const scheduler = new DDPMScheduler({ numTrainTimesteps: 100 });
    const data = new BatchIterator(labelledData(), { batchSize: 4, seed: 1 });
    const trainer = new Trainer({ model, scheduler, data, classConditional: true });
    await trainer.trainStep();
    expect([...seen[0]].sort()).toEqual([0, 0, 1, 2]);
    trainer.dispose();
    expect(() => new Trainer({ model, scheduler, data, classDropout: 0.1 })).toThrow(/classDropout needs classConditional/);
    expect(() => new Trainer({ model, scheduler, data, classConditional: true, classDropout: 1.5 })).toThrow(
      /classDropout must be in \[0, 1\]/,
    );
    expect(() => new Trainer({ model, scheduler, data, classConditional: true, classDropout: 0.1, nullClass: 4 })).toThrow(/nullClass/);
    const unlabelled = new Trainer({ model, scheduler, data: new BatchIterator(tinyData(), { batchSize: 2 }), classConditional: true });
    await expect(unlabelled.trainStep()).rejects.toThrow(/needs a dataset with labels/);
    unlabelled.dispose();
    model.dispose();
  });
});
