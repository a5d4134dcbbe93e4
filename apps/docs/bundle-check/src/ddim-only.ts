// Bundle entry: what a browser app that samples with DDIM needs. Imports only DDIMScheduler from
// the schedulers, so DDPM and PNDM must be tree-shaken out.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '@diffusion-ts/core';
import { DDIMScheduler } from '@diffusion-ts/schedulers';
import * as models from '@diffusion-ts/models';
import * as pipelines from '@diffusion-ts/pipelines';

export async function main(): Promise<void> {
  setWasmPaths('/tfjs-wasm/');
  await initBackend('auto');
  const scheduler = new DDIMScheduler();
  scheduler.setTimesteps(10);
  const exported = [...Object.keys(models), ...Object.keys(pipelines)];
  document.body.textContent = `${tf.getBackend()} ${scheduler.timesteps.length} ${exported.length}`;
}
void main();
