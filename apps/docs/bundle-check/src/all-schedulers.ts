// Bundle entry: the same app with every scheduler, to show what tree-shaking removes.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '@diffusion-ts/core';
import { DDIMScheduler, DDPMScheduler, PNDMScheduler } from '@diffusion-ts/schedulers';
import { UNet2DModel } from '@diffusion-ts/models';
import { UnconditionalPipeline } from '@diffusion-ts/pipelines';

export async function main(): Promise<void> {
  setWasmPaths('/tfjs-wasm/');
  await initBackend('auto');
  const all = [new DDIMScheduler(), new DDPMScheduler(), new PNDMScheduler()];
  const unet = await UNet2DModel.fromPretrained(new URL('/model/unet', window.location.href).href);
  for (const scheduler of all) {
    const { images } = await new UnconditionalPipeline({ unet, scheduler }).generate({ numInferenceSteps: 10 });
    images.dispose();
  }
  document.body.textContent = `${tf.getBackend()} ${all.length}`;
}
void main();
