// Bundle entry: the same app with every scheduler, to show what tree-shaking removes.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '@diffusion-ts/core';
import { DDIMScheduler, DDPMScheduler, PNDMScheduler } from '@diffusion-ts/schedulers';
import * as models from '@diffusion-ts/models';
import * as pipelines from '@diffusion-ts/pipelines';

export async function main(): Promise<void> {
  setWasmPaths('/tfjs-wasm/');
  await initBackend('auto');
  const all = [new DDIMScheduler(), new DDPMScheduler(), new PNDMScheduler()];
  for (const scheduler of all) scheduler.setTimesteps(10);
  const exported = [...Object.keys(models), ...Object.keys(pipelines)];
  document.body.textContent = `${tf.getBackend()} ${all.length} ${exported.length}`;
}
void main();
