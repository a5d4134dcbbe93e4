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
await check('DDIM pipeline: 3 steps on a tiny random UNet', async () => {
  const Pipeline = pipelines.DDIMPipeline ?? pipelines.DDPMPipeline;
  expect(typeof Pipeline === 'function', 'neither DDIMPipeline nor DDPMPipeline exported');
  const pipeline = new Pipeline({ unet, scheduler });
  const before = tf.memory().numTensors;
  const result = await pipeline.generate({ batchSize: 2, numInferenceSteps: 3, generator: new Generator(0) });
  const images = result.images ?? result;
  const tensor = images instanceof tf.Tensor ? images : null;
  if (tensor) {
    expect(tensor.shape.join() === '2,8,8,1', `shape ${tensor.shape}`);
    expect(allFinite(tensor.dataSync()), 'non-finite output');
    tensor.dispose();
  } else {
    expect(Array.isArray(images) && images.length === 2, `unexpected result ${typeof images}`);
  }
  const leaked = tf.memory().numTensors - before;
  expect(leaked <= 0, `${leaked} tensors leaked`);
});
finish();
