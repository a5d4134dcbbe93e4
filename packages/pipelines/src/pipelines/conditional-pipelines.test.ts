import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator, initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { UNet2DConditionModel, UNet2DModel } from '@diffusion-ts/models';
import { DDIMScheduler, DDPMScheduler, PNDMScheduler } from '@diffusion-ts/schedulers';
import { TINY_CLASS_UNET, TINY_CONDITION_UNET, TINY_UNET } from '@diffusion-ts/models/testing';
import { ClassConditionalPipeline } from './class-conditional.js';
import { ConditionedPipeline } from './conditioned.js';
import { Img2ImgPipeline } from './img2img.js';

describe.each(testBackendNames())('conditional pipelines on %s', (backend) => {
  let classUnet: UNet2DModel;
  let plainUnet: UNet2DModel;
  let conditionUnet: UNet2DConditionModel;
  beforeAll(async () => {
    await initBackend(backend);
    classUnet = UNet2DModel.fromConfig(TINY_CLASS_UNET, { seed: 1 });
    plainUnet = UNet2DModel.fromConfig(TINY_UNET, { seed: 1 });
    conditionUnet = UNet2DConditionModel.fromConfig(TINY_CONDITION_UNET, { seed: 1 });
  });
  afterAll(() => {
    classUnet.dispose();
    plainUnet.dispose();
    conditionUnet.dispose();
  });

  it('ClassConditionalPipeline: guidance changes the result, the null class is the last embedding, no leaks', async () => {
    const pipeline = new ClassConditionalPipeline({ unet: classUnet, scheduler: new DDIMScheduler() });
    expect(pipeline.nullClass).toBe(3);
    const before = tf.memory().numTensors;
    const plain = await pipeline.generate({ classLabels: [0, 2], numInferenceSteps: 3, generator: new Generator(1) });
    const guided = await pipeline.generate({ classLabels: [0, 2], numInferenceSteps: 3, generator: new Generator(1), guidanceScale: 3 });
    expect(guided.images.shape).toEqual([2, 8, 8, 1]);
    const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(plain.images, guided.images))).dataSync()[0]);
    expect(difference).toBeGreaterThan(0);
    tf.dispose([plain.images, guided.images]);
    expect(tf.memory().numTensors).toBe(before);
    await expect(pipeline.generate({ classLabels: [5] })).rejects.toThrow(/class label 5/);
    expect(() => new ClassConditionalPipeline({ unet: plainUnet, scheduler: new DDIMScheduler() })).toThrow(/no class embedding/);
  });

  it('ConditionedPipeline: broadcasts one embedding row, guidance against negative embeddings', async () => {
    const pipeline = new ConditionedPipeline({ unet: conditionUnet, scheduler: new DDIMScheduler() });
    const states = tf.tidy(() => tf.sin(tf.reshape(tf.range(0, 36), [1, 3, 12]))) as tf.Tensor3D;
    const negative = tf.tidy(() => tf.mul(states, -1)) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    const one = await pipeline.generate({
      encoderHiddenStates: states,
      batchSize: 2,
      numInferenceSteps: 2,
      generator: new Generator(4),
      guidanceScale: 2,
    });
    const two = await pipeline.generate({
      encoderHiddenStates: states,
      negativeEncoderHiddenStates: negative,
      batchSize: 2,
      numInferenceSteps: 2,
      generator: new Generator(4),
      guidanceScale: 2,
    });
    expect(one.images.shape).toEqual([2, 8, 8, 1]);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(one.images, two.images))).dataSync()[0])).toBeGreaterThan(0);
    tf.dispose([one.images, two.images]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([states, negative]);
  });

  it('Img2ImgPipeline: strength picks the tail of the schedule; PNDM is refused', async () => {
    const pipeline = new Img2ImgPipeline({ unet: plainUnet, scheduler: new DDIMScheduler() });
    expect(pipeline.timestepsFor(10, 1)).toHaveLength(10);
    expect(pipeline.timestepsFor(10, 0.3)).toEqual([200, 100, 0]);
    const image = tf.tidy(() => tf.sub(tf.mul(tf.ones([1, 8, 8, 1]), 0.5), 0)) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const steps: number[] = [];
    const result = await pipeline.generate({
      image,
      batchSize: 2,
      strength: 0.3,
      numInferenceSteps: 10,
      generator: new Generator(2),
      onStep: (_, t) => void steps.push(t),
    });
    expect(steps).toEqual([200, 100, 0]);
    expect(result.images.shape).toEqual([2, 8, 8, 1]);
    result.images.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(pipeline.generate({ image, strength: 0 })).rejects.toThrow(/strength/);
    const ddpm = new Img2ImgPipeline({ unet: plainUnet, scheduler: new DDPMScheduler() });
    const low = await ddpm.generate({ image, strength: 0.02, numInferenceSteps: 1000, generator: new Generator(1) });
    const error = tf.tidy(() => tf.max(tf.abs(tf.sub(low.images, image))).dataSync()[0]);
    expect(error).toBeLessThan(0.6);
    low.images.dispose();
    await expect(new Img2ImgPipeline({ unet: plainUnet, scheduler: new PNDMScheduler() }).generate({ image })).rejects.toThrow(
      /PNDMScheduler cannot start mid-schedule/,
    );
    image.dispose();
  });
});
