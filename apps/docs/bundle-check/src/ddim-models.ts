// Bundle entry: a browser app with its own sampling loop: DDIMScheduler + UNet2DModel only.
// DDPM and PNDM must be tree-shaken out.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { initBackend, randn, Generator } from '@diffusion-ts/core';
import { DDIMScheduler } from '@diffusion-ts/schedulers';
import { UNet2DModel } from '@diffusion-ts/models';

export async function main(): Promise<void> {
  setWasmPaths('/tfjs-wasm/');
  await initBackend('auto');
  const scheduler = new DDIMScheduler();
  scheduler.setTimesteps(10);
  const unet = await UNet2DModel.fromPretrained(new URL('/model/unet', window.location.href).href);
  const generator = new Generator(0);
  let sample = randn([1, 28, 28, 1], generator) as tf.Tensor4D;
  for (const t of scheduler.timesteps) {
    const next = tf.tidy(() => scheduler.step(unet.predict(sample, t), t, sample, { checkFinite: false }).prevSample as tf.Tensor4D);
    sample.dispose();
    sample = next;
  }
  document.body.textContent = `${tf.getBackend()} ${(await sample.data()).length}`;
}
void main();
