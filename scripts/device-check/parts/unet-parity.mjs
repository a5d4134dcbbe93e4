/**
 * Part 3, UNet parity on the GPU backends: the tiny UNet2DModel fixture against Diffusers' own
 * output (io.json), and a cross-attention UNet2DConditionModel (seeded weights, identical on every
 * backend) against the cpu backend. Errors are max |x - ref| / max(1, |ref|).
 */
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { listBackends } from '@diffusion-ts/core';
import { UNet2DConditionModel, UNet2DModel } from '@diffusion-ts/models';
import { APP_ROOT, messageOf, partArguments, readFixtureJson, relativeToUnit, useBackend, writePartJson } from '../common.mjs';

const { out, quick } = partArguments();
const io = readFixtureJson('diffusers', 'unet2d_tiny', 'io.json');
const nhwc = (array) => tf.tidy(() => tf.transpose(tf.tensor4d(Float32Array.from(array.data), array.shape), [0, 2, 3, 1]));

/** A small SD-style conditioned UNet: cross-attention down, mid and up blocks. */
const CONDITIONED = {
  sampleSize: 16,
  inChannels: 4,
  outChannels: 4,
  blockOutChannels: [32, 64],
  layersPerBlock: 1,
  normNumGroups: 8,
  attentionHeadDim: 4,
  crossAttentionDim: 32,
  downBlockTypes: ['CrossAttnDownBlock2D', 'DownBlock2D'],
  upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D'],
};

async function tinyFixture() {
  const model = await UNet2DModel.fromPretrained(join(APP_ROOT, 'fixtures', 'diffusers', 'unet2d_tiny'));
  const sample = nhwc(io.inputs.sample);
  const timesteps = tf.tensor1d(io.inputs.timestep.data, 'int32');
  const output = model.predict(sample, timesteps);
  const actual = await tf.transpose(output, [0, 3, 1, 2]).data();
  tf.dispose([sample, timesteps, output]);
  model.dispose();
  return relativeToUnit(actual, io.output.sample.data);
}

async function conditioned() {
  const model = UNet2DConditionModel.fromConfig(CONDITIONED, { seed: 0 });
  // Quick runs (SwiftShader in CI): one 8x8 latent instead of two 16x16 ones.
  const [batch, side] = quick ? [1, 8] : [2, 16];
  const size = batch * side * side * 4;
  const sample = tf.tensor4d(
    Float32Array.from({ length: size }, (_, i) => Math.sin(0.1 * i + 0.5)),
    [batch, side, side, 4],
  );
  const context = tf.tensor3d(
    Float32Array.from({ length: batch * 77 * 32 }, (_, i) => Math.cos(0.07 * i)),
    [batch, 77, 32],
  );
  const output = model.predict(sample, 500, { encoderHiddenStates: context });
  const values = await output.data();
  tf.dispose([sample, context, output]);
  model.dispose();
  return values;
}

const available = new Set((await listBackends()).filter((info) => info.available).map((info) => info.name));
const backends = ['webgpu', 'cuda', 'wasm'].filter((name) => available.has(name));
await useBackend('cpu');
const conditionedReference = await conditioned();
const result = { bound: 1e-4, backends: {}, pass: true };
for (const backend of backends) {
  const row = {};
  try {
    await useBackend(backend);
    row.tinyVsDiffusers = await tinyFixture();
    row.conditionedVsCpu = relativeToUnit(await conditioned(), conditionedReference);
    if (!(row.tinyVsDiffusers <= 1e-4 && row.conditionedVsCpu <= 1e-4)) result.pass = false;
  } catch (error) {
    row.failure = messageOf(error);
    result.pass = false;
  }
  result.backends[backend] = row;
  console.log(`UNet parity on ${backend}: ${JSON.stringify(row)}`);
}
writePartJson(out, 'unet-parity', result);
process.exitCode = result.pass ? 0 : 1;
