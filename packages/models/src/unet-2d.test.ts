import { initBackend, type ConfigJson } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
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
import { SMALL_UNET_2D } from './testing/index.js';
import { UNet2DModel } from './unet-2d.js';
import { WeightsError } from './weights.js';

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

describe('UNet2DModel errors and options', () => {
  beforeAll(() => initBackend('cpu'));
  const weights = () => readSafetensorsForTest(`${UNET2D_TINY_FOLDER}diffusion_pytorch_model.safetensors`);
  const config = () => readFixtureJson<ConfigJson>('config.json');

  it('rejects a wrong channel count, an indivisible size and a wrong rank', () => {
    const model = UNet2DModel.fromConfig(config());
    const nchw = tf.zeros([1, 3, 16, 16]) as tf.Tensor4D;
    expect(() => model.predict(nchw, 1)).toThrow(/16 channels but the model expects in_channels = 3 .*NHWC/);
    const odd = tf.zeros([1, 9, 16, 3]) as tf.Tensor4D;
    expect(() => model.predict(odd, 1)).toThrow(/\(9x16\) must be multiples of 2 \(2\^1 downsamples\)/);
    const flat = tf.zeros([16, 16, 3]) as unknown as tf.Tensor4D;
    expect(() => model.predict(flat, 1)).toThrow(/NHWC/);
    const timesteps = tf.tensor1d([1, 2, 3]);
    const sample = tf.zeros([2, 16, 16, 3]) as tf.Tensor4D;
    expect(() => model.predict(sample, timesteps)).toThrow(/3 entries but the batch has 2/);
    expect(() => model.predict(sample, Number.NaN)).toThrow(/finite/);
    const labels = tf.tensor1d([0, 1], 'int32');
    expect(() => model.predict(sample, 1, { classLabels: labels })).toThrow(/no class embedding/);
    tf.dispose([nchw, odd, flat, timesteps, sample, labels]);
    model.dispose();
  });

  it('lists missing and mis-shaped weights by name and reports unused ones', () => {
    const model = UNet2DModel.fromConfig(config());
    const broken = weights();
    delete broken['conv_in.bias'];
    delete broken['mid_block.attentions.0.to_q.weight'];
    broken['conv_out.weight'] = { dtype: 'F32', shape: [3, 32, 1, 1], data: new Float32Array(96) };
    let error: unknown;
    try {
      model.loadWeights(broken);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WeightsError);
    const weightsError = error as WeightsError;
    expect(weightsError.missing).toEqual(['conv_in.bias', 'mid_block.attentions.0.to_q.weight']);
    expect(weightsError.mismatched).toEqual(['conv_out.weight: expected [3, 32, 3, 3], got [3, 32, 1, 1]']);
    expect(weightsError.message).toMatch(/conv_in\.bias.*mid_block\.attentions\.0\.to_q\.weight.*conv_out\.weight/);
    const extra = { ...weights(), 'extra.weight': { dtype: 'F32', shape: [1], data: new Float32Array(1) } };
    expect(model.loadWeights(extra).unexpected).toEqual(['extra.weight']);
    model.dispose();
  });

  it('accepts deprecated attention names (query/key/value/proj_attn)', () => {
    const renamed: ReturnType<typeof weights> = {};
    for (const [name, tensor] of Object.entries(weights())) {
      renamed[name.replace('.to_q.', '.query.').replace('.to_out.0.', '.proj_attn.')] = tensor;
    }
    const model = UNet2DModel.fromConfig(config());
    expect(model.loadWeights(renamed).unexpected).toEqual([]);
    model.dispose();
  });

  it('rejects bad configs by key', () => {
    expect(() => UNet2DModel.fromConfig({ ...config(), block_out_channels: [32] })).toThrow(/down_block_types/);
    expect(() => UNet2DModel.fromConfig({ ...config(), layers_per_block: 'two' })).toThrow(/layers_per_block/);
    expect(() => UNet2DModel.fromConfig({ ...config(), time_embedding_type: 'fourier' })).toThrow(/time_embedding_type/);
    expect(() => UNet2DModel.fromConfig({ ...config(), _class_name: 'UNet2DConditionModel' })).toThrow(/UNet2DConditionModel/);
    const warnings: string[] = [];
    UNet2DModel.fromConfig({ ...config(), surprise: 1 }, { onWarning: (message) => warnings.push(message) }).dispose();
    expect(warnings).toEqual([expect.stringMatching(/surprise/)]);
  });

  it('conditions on class labels (num_class_embeds and class_embed_type timestep)', () => {
    for (const extra of [{ numClassEmbeds: 4 }, { classEmbedType: 'timestep' as const }]) {
      const model = UNet2DModel.fromConfig({ ...SMALL_UNET_2D, ...extra });
      const sample = tf.ones([2, 8, 8, 3]) as tf.Tensor4D;
      const a = tf.tensor1d([0, 1], 'int32');
      const b = tf.tensor1d([3, 2], 'int32');
      const outputA = model.predict(sample, 3, { classLabels: a });
      const outputB = model.predict(sample, 3, { classLabels: b });
      expect(maxAbsDifference(outputA, outputB)).toBeGreaterThan(1e-6);
      expect(() => model.predict(sample, 3)).toThrow(/classLabels are required/);
      tf.dispose([sample, a, b, outputA, outputB]);
      model.dispose();
    }
  });

  it('applies dropout only in training mode', () => {
    const model = UNet2DModel.fromConfig({ ...SMALL_UNET_2D, dropout: 0.5 });
    const sample = tf.ones([1, 8, 8, 3]) as tf.Tensor4D;
    const a = model.predict(sample, 3);
    const b = model.predict(sample, 3);
    expect(maxAbsDifference(a, b)).toBe(0);
    model.training = true;
    const c = model.predict(sample, 3);
    const d = model.predict(sample, 3);
    expect(maxAbsDifference(c, d)).toBeGreaterThan(0);
    tf.dispose([sample, a, b, c, d]);
    model.dispose();
  });

  it('initialises like PyTorch and deterministically from the seed', () => {
    const a = UNet2DModel.fromConfig(SMALL_UNET_2D, { seed: 7 });
    const b = UNet2DModel.fromConfig(SMALL_UNET_2D, { seed: 7 });
    const names = a.parameterNames();
    const conv = a.trainableVariables()[names.indexOf('conv_in.weight')];
    const values = conv.dataSync();
    const bound = 1 / Math.sqrt(3 * 3 * 3);
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(bound * 0.8);
    expect(Array.from(b.trainableVariables()[names.indexOf('conv_in.weight')].dataSync())).toEqual(Array.from(values));
    expect(Array.from(a.trainableVariables()[names.indexOf('conv_norm_out.weight')].dataSync()).every((v) => v === 1)).toBe(true);
    a.dispose();
    b.dispose();
  });
});
