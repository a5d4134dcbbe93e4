// Bundle entry: the same DDIM app through @diffusion-ts/pipelines' UnconditionalPipeline.
// Must build; whether other schedulers come along (the pipeline's scheduler registry) is reported.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '@diffusion-ts/core';
import { DDIMScheduler } from '@diffusion-ts/schedulers';
import { UNet2DModel } from '@diffusion-ts/models';
import { UnconditionalPipeline } from '@diffusion-ts/pipelines';

export async function main(): Promise<void> {
  setWasmPaths('/tfjs-wasm/');
  await initBackend('auto');
  const scheduler = new DDIMScheduler();
  scheduler.setTimesteps(10);
  const unet = await UNet2DModel.fromPretrained(new URL('/model/unet', window.location.href).href);
  const { images } = await new UnconditionalPipeline({ unet, scheduler }).generate({ numInferenceSteps: 10 });
  images.dispose();
  document.body.textContent = `${tf.getBackend()} ${scheduler.timesteps.length}`;
}
void main();
