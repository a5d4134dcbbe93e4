// Bundle entry: the DDIM+UNet app with every scheduler, to show what tree-shaking removes.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '@diffusion-ts/core';
import { DDIMScheduler, DDPMScheduler, PNDMScheduler } from '@diffusion-ts/schedulers';
import { UNet2DModel } from '@diffusion-ts/models';

export async function main(): Promise<void> {
  setWasmPaths('/tfjs-wasm/');
  await initBackend('auto');
  const unet = await UNet2DModel.fromPretrained(new URL('/model/unet', window.location.href).href);
  const all = [new DDIMScheduler(), new DDPMScheduler(), new PNDMScheduler()];
  for (const scheduler of all) scheduler.setTimesteps(10);
  document.body.textContent = `${tf.getBackend()} ${all.length} ${unet.parameterCount}`;
}
void main();
