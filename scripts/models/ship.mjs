// Copies a training run's EMA model into the repository as a shipped model:
//   node scripts/models/ship.mjs <run-folder> <models/name>
// Writes <models/name> in Diffusers' layout (model_index.json, scheduler/, unet/ with float16
// weights: half the size, widened to float32 when loaded), the run's training-log.jsonl and its
// loss curve (loss-curve.png). The model card (README.md) is written by hand from these and from
// `diffusion-ts quality`. Needs the built packages (npm run build).
//
// The shipped scheduler config has `clip_sample: false` (the trainer writes Diffusers' default,
// true): clipping the predicted x0 to [-1, 1] without re-deriving ε from it pulls DDIM's steps off
// the model's own trajectory. Measured on mnist-ddpm, DDIM 50 steps, 500 images, seed 0: Frechet
// distance 14.42 clipped, 11.55 unclipped; guided DDIM on mnist-class-ddpm drew no 1s at all with
// clipping. The solvers of the sigma and multistep families ignore the key.
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { initBackend } from '../../packages/core/dist/index.js';
import { loadUNet2DPipeline } from '../../packages/pipelines/dist/index.js';
import { schedulerFromConfig } from '../../packages/schedulers/dist/index.js';

const [run, target] = process.argv.slice(2);
if (!run || !target) {
  console.error('usage: node scripts/models/ship.mjs <run-folder> <models/name>');
  process.exit(2);
}
const source = join(run, 'model');
if (!existsSync(join(source, 'model_index.json')))
  throw new Error(`${source} has no model_index.json: export the run first (diffusion-ts train … --resume)`);
await initBackend('cpu');
const pipeline = await loadUNet2DPipeline(source);
const trained = pipeline.scheduler;
pipeline.scheduler = schedulerFromConfig({ ...trained.toConfig(), clip_sample: false }, trained.className);
trained.dispose();
await pipeline.save(target, { dtype: 'float16' });
console.log(`wrote ${target}: ${pipeline.constructor.name}, ${pipeline.unet.parameterCount} parameters (float16 weights)`);
pipeline.dispose();
copyFileSync(join(run, 'training-log.jsonl'), join(target, 'training-log.jsonl'));
const curve = spawnSync(
  process.execPath,
  [new URL('./loss-curve.mjs', import.meta.url).pathname, join(target, 'training-log.jsonl'), join(target, 'loss-curve.png')],
  {
    stdio: 'inherit',
  },
);
if (curve.status !== 0) process.exit(curve.status ?? 1);
