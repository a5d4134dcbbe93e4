/**
 * Work too large for the backend is refused before anything is allocated (issue 17): a batch of a
 * million, of 2^31, a height of 1e5; the message names the backend and its limit.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendError, initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { UNet2DConditionModel, UNet2DModel } from '@diffusion-ts/models';
import { DDIMScheduler } from '@diffusion-ts/schedulers';
import { TINY_CONDITION_UNET, TINY_UNET } from '@diffusion-ts/models/testing';
import { ConditionedPipeline } from './conditioned.js';
import { Img2ImgPipeline } from './img2img.js';
import { UnconditionalPipeline } from './unconditional.js';

async function refusal(run: () => Promise<unknown>): Promise<BackendError> {
  const before = tf.memory().numTensors;
  const started = performance.now();
  const error = await run().then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(BackendError);
  expect((error as BackendError).fault).toBe('insufficient-memory');
  expect(performance.now() - started).toBeLessThan(2000);
  expect(tf.memory().numTensors).toBe(before);
  return error as BackendError;
}

describe.each(testBackendNames())('work size on %s', (backend) => {
  let unet: UNet2DModel;
  let conditioned: UNet2DConditionModel;
  beforeAll(async () => {
    await initBackend(backend);
    unet = UNet2DModel.fromConfig(TINY_UNET, { seed: 1 });
    conditioned = UNet2DConditionModel.fromConfig(TINY_CONDITION_UNET, { seed: 1 });
  });
  afterAll(() => {
    unet.dispose();
    conditioned.dispose();
  });

  it('refuses a batch of a million, a batch of 2^31 and a height of 1e5 before allocating', async () => {
    const pipeline = new UnconditionalPipeline({ unet, scheduler: new DDIMScheduler() });
    const million = await refusal(() => pipeline.generate({ batchSize: 1e6, numInferenceSteps: 1 }));
    expect(million.message).toMatch(/UnconditionalPipeline\.generate: one step at batch 1000000 of 8x8 needs about [\d.,]+ [MGTP]iB/);
    expect(million.message).toMatch(backend === 'wasm' ? /the wasm heap holds at most 4 GiB/ : /this machine has [\d.]+ GiB/);
    expect(million.message).toMatch(/lower batchSize or the image size/);
    await refusal(() => pipeline.generate({ batchSize: 2 ** 31, numInferenceSteps: 1 }));
    const tall = await refusal(() => pipeline.generate({ height: 1e5, width: 8, numInferenceSteps: 1 }));
    expect(tall.message).toMatch(/of 100000x8/);
    const images = (await pipeline.generate({ batchSize: 2, numInferenceSteps: 1, seed: 0 })).images;
    expect(images.shape).toEqual([2, 8, 8, 1]);
    images.dispose();
  });

  it('counts the doubled batch of guidance and checks img2img too', async () => {
    const pipeline = new ConditionedPipeline({ unet: conditioned, scheduler: new DDIMScheduler() });
    const states = tf.zeros([1, 3, 12]) as tf.Tensor3D;
    const guided = await refusal(() =>
      pipeline.generate({ encoderHiddenStates: states, batchSize: 1e6, guidanceScale: 7, numInferenceSteps: 1 }),
    );
    expect(guided.message).toMatch(/batch 2000000 \(1000000 doubled for guidance\)/);
    states.dispose();
    const img2img = new Img2ImgPipeline({ unet, scheduler: new DDIMScheduler() });
    const image = tf.zeros([1, 8, 8, 1]) as tf.Tensor4D;
    await refusal(() => img2img.generate({ image, batchSize: 1e6, numInferenceSteps: 2 }));
    image.dispose();
  });
});
