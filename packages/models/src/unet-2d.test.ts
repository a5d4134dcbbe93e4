import { initBackend, testBackendNames, type ConfigJson } from '@diffusion-ts/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  UNET2D_TINY_FOLDER,
  maxAbsDifference,
  nchwToNhwc,
  readFixtureJson,
  readSafetensorsForTest,
  type FixtureArray,
} from './testing/fixtures.js';
import { UNet2DModel } from './unet-2d.js';

interface TinyIo {
  inputs: { sample: FixtureArray; timestep: FixtureArray };
  output: { sample: FixtureArray };
  output_with_scalar_timestep_500: { sample: FixtureArray };
}

describe.each(testBackendNames())('UNet2DModel fixture parity on %s', (backend) => {
  let model: UNet2DModel;
  const io = readFixtureJson<TinyIo>('io.json');

  beforeAll(async () => {
    await initBackend(backend);
    model = UNet2DModel.fromConfig(readFixtureJson<ConfigJson>('config.json'));
    model.loadWeights(readSafetensorsForTest(`${UNET2D_TINY_FOLDER}diffusion_pytorch_model.safetensors`));
  });

  it('has the fixture parameter count', () => {
    expect(model.parameterCount).toBe(702_499);
    expect(model.trainableVariables()).toHaveLength(144);
  });

  it('matches Diffusers with a tensor timestep', () => {
    const sample = nchwToNhwc(io.inputs.sample);
    const expected = nchwToNhwc(io.output.sample);
    const timesteps = tf.tensor1d(io.inputs.timestep.data, 'int32');
    const before = tf.memory().numTensors;
    const output = model.predict(sample, timesteps);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(output.shape).toEqual([2, 16, 16, 3]);
    const error = maxAbsDifference(output, expected);
    console.log(`[${backend}] tensor timestep max abs error ${error.toExponential(3)}`);
    expect(error).toBeLessThan(1e-4);
    tf.dispose([sample, expected, timesteps, output]);
  });

  it('matches Diffusers with the plain integer timestep 500', () => {
    const sample = nchwToNhwc(io.inputs.sample);
    const expected = nchwToNhwc(io.output_with_scalar_timestep_500.sample);
    const output = model.predict(sample, 500);
    const error = maxAbsDifference(output, expected);
    console.log(`[${backend}] integer timestep max abs error ${error.toExponential(3)}`);
    expect(error).toBeLessThan(1e-4);
    tf.dispose([sample, expected, output]);
  });
});
