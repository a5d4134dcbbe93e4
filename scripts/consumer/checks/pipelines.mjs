// Consumer check for @diffusion-ts/pipelines end to end: a tiny random UNet and a few DDIM steps.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Generator, initBackend } from '@diffusion-ts/core';
import { UNet2DModel } from '@diffusion-ts/models';
import { DDIMScheduler } from '@diffusion-ts/schedulers';
import * as pipelines from '@diffusion-ts/pipelines';
import { allFinite, check, expect, finish } from './harness.mjs';

await initBackend('cpu');
const unet = UNet2DModel.fromConfig(
  {
    sampleSize: 8,
    inChannels: 1,
    outChannels: 1,
    blockOutChannels: [16, 32],
    layersPerBlock: 1,
    normNumGroups: 8,
    downBlockTypes: ['DownBlock2D', 'DownBlock2D'],
    upBlockTypes: ['UpBlock2D', 'UpBlock2D'],
  },
  { seed: 0 },
);
const scheduler = new DDIMScheduler({ numTrainTimesteps: 1000 });

await check('exports a generation pipeline', () => {
  const names = Object.keys(pipelines);
  expect(names.length > 0, 'no exports');
  return names.join(', ');
});
await check('UnconditionalPipeline: 3 DDIM steps on a tiny random UNet', async () => {
  expect(typeof pipelines.UnconditionalPipeline === 'function', 'UnconditionalPipeline not exported');
  const pipeline = new pipelines.UnconditionalPipeline({ unet, scheduler });
  const before = tf.memory().numTensors;
  let steps = 0;
  const { images } = await pipeline.generate({
    batchSize: 2,
    numInferenceSteps: 3,
    generator: new Generator(0),
    onStep: () => {
      steps += 1;
    },
  });
  expect(images.shape.join() === '2,8,8,1', `shape ${images.shape}`);
  expect(allFinite(images.dataSync()), 'non-finite output');
  expect(steps === 3, `onStep called ${steps} times`);
  images.dispose();
  const leaked = tf.memory().numTensors - before;
  expect(leaked <= 0, `${leaked} tensors leaked`);
  return `images ${images.shape.join('x')}`;
});
await check('save + fromPretrained reproduces the same images', async () => {
  const { rm } = await import('node:fs/promises');
  await rm('./pipeline', { recursive: true, force: true });
  const pipeline = new pipelines.UnconditionalPipeline({ unet, scheduler });
  await pipeline.save('./pipeline');
  const reloaded = await pipelines.UnconditionalPipeline.fromPretrained('./pipeline');
  const first = await pipeline.generate({ batchSize: 1, numInferenceSteps: 2, seed: 7 });
  const second = await reloaded.generate({ batchSize: 1, numInferenceSteps: 2, seed: 7 });
  const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(first.images, second.images))).dataSync()[0]);
  tf.dispose([first.images, second.images]);
  reloaded.dispose();
  expect(difference === 0, `max difference ${difference}`);
});
await check('images: tensorToImages + encodeImagePng', async () => {
  const { images } = await new pipelines.UnconditionalPipeline({ unet, scheduler }).generate({
    batchSize: 1,
    numInferenceSteps: 1,
    seed: 1,
  });
  const decoded = await pipelines.tensorToImages(images);
  images.dispose();
  const png = pipelines.encodeImagePng(decoded[0]);
  expect(png instanceof Uint8Array && png[1] === 0x50 && png[2] === 0x4e && png[3] === 0x47, 'not a PNG');
  return `${png.length} bytes`;
});
finish();
