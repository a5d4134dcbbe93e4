#!/usr/bin/env node
// Our half of the Diffusers bridge check (scripts/reference/bridge_check.py runs it; it is not
// meant to be run by hand). It loads each pipeline folder of the request with our own
// `UnconditionalPipeline` / `ClassConditionalPipeline.fromPretrained` (the scheduler config read
// into a DDIMScheduler, as `diffusion-ts sample --scheduler ddim` does; its warnings are kept), then
// - runs `unet.predict` on the request's fixed samples and timesteps (NHWC),
// - runs `generate` (seeded, DDIM, eta 0) and records the start noise x_T it draws, the timesteps
//   and the sample after every step,
// and writes every array back (float32, little-endian, base64) for the Python side to compare.
//
//   node scripts/reference/bridge_check_ours.mjs <request.json> <response.json>
//
// Uses the built packages (packages/*/dist): run `npx turbo run build --filter=@diffusion-ts/pipelines` first.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const load = (path) => import(pathToFileURL(join(root, path)).href);
const tf = await load('packages/core/node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js');
const core = await load('packages/core/dist/index.js');
const pipelines = await load('packages/pipelines/dist/index.js');

/** A float32 array as {shape, f32: base64 of its little-endian bytes}. */
function encode(tensor) {
  const values = tensor.dataSync();
  const data = values instanceof Float32Array ? values : Float32Array.from(values);
  return { shape: tensor.shape, f32: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
}

function decode(array) {
  const bytes = Buffer.from(array.f32, 'base64');
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return tf.tensor(values, array.shape, 'float32');
}

async function startBackend(name) {
  if (name === 'cpu') return { backend: await core.initBackend('cpu') };
  if (name === 'wasm') return pipelines.initFastBackend('wasm', 1);
  throw new Error(`unknown backend '${name}' (expected cpu or wasm)`);
}

function loadPipeline(model, warnings) {
  const options = { scheduler: 'ddim', onWarning: (message) => warnings.push(message) };
  if (model.conditional) return pipelines.ClassConditionalPipeline.fromPretrained(model.folder, { ...options, nullClass: model.nullClass });
  return pipelines.UnconditionalPipeline.fromPretrained(model.folder, options);
}

async function runModel(model) {
  const warnings = [];
  const pipeline = await loadPipeline(model, warnings);
  const result = { name: model.name, parameters: pipeline.unet.parameterCount, warnings, unet: {}, generate: {} };
  try {
    for (const unetCase of model.unetCases) {
      const output = tf.tidy(() => {
        const sample = decode(unetCase.sample);
        const timestep = Array.isArray(unetCase.timestep) ? tf.tensor1d(unetCase.timestep, 'float32') : unetCase.timestep;
        const classLabels = unetCase.classLabels ? tf.tensor1d(unetCase.classLabels, 'int32') : undefined;
        return pipeline.unet.predict(sample, timestep, classLabels ? { classLabels } : {});
      });
      result.unet[unetCase.name] = encode(output);
      output.dispose();
    }
    for (const run of model.generate) {
      const size = pipeline.unet.config.sampleSize;
      const [height, width] = typeof size === 'number' ? [size, size] : size;
      const shape = [run.batch, height, width, pipeline.unet.config.inChannels];
      const start = core.randn(shape, new core.Generator(run.seed));
      const steps = [];
      const options = {
        seed: run.seed,
        batchSize: run.batch,
        numInferenceSteps: run.steps,
        eta: 0,
        onStep: (_index, _timestep, sample) => {
          steps.push(encode(sample));
        },
      };
      const { images } = model.conditional
        ? await pipeline.generate({ ...options, classLabels: run.classLabels, guidanceScale: run.guidanceScale })
        : await pipeline.generate(options);
      result.generate[run.name] = { start: encode(start), timesteps: [...pipeline.scheduler.timesteps], steps, final: encode(images) };
      start.dispose();
      images.dispose();
    }
  } finally {
    pipeline.dispose();
  }
  return result;
}

async function main() {
  const [requestPath, responsePath] = process.argv.slice(2);
  if (!requestPath || !responsePath) throw new Error('usage: node scripts/reference/bridge_check_ours.mjs <request.json> <response.json>');
  const request = JSON.parse(readFileSync(requestPath, 'utf8'));
  const report = await startBackend(request.backend);
  const tensorsBefore = tf.memory().numTensors;
  const models = [];
  for (const model of request.models) models.push(await runModel(model));
  const leaked = tf.memory().numTensors - tensorsBefore;
  const backend = [
    report.backend,
    report.native ? `native ${report.native}` : undefined,
    report.threads ? `${report.threads} thread(s)` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
  writeFileSync(responsePath, JSON.stringify({ backend, leakedTensors: leaked, models }));
}

await main();
