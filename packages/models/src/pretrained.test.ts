import { ConfigError, initBackend, LoadError, loadSafetensors, saveSafetensors, type ConfigJson } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNET2D_TINY_FOLDER, maxAbsDifference, nchwToNhwc, readFixtureJson, type FixtureArray } from './testing/fixtures.js';
import { UNet2DModel } from './unet-2d.js';
import { WeightsError } from './weights.js';

interface TinyIo {
  inputs: { sample: FixtureArray; timestep: FixtureArray };
  output: { sample: FixtureArray };
}

describe.each(testBackendNames())('UNet2DModel.fromPretrained and save on %s', (backend) => {
  let folder: string;
  let model: UNet2DModel;
  let sample: tf.Tensor4D;
  let timesteps: tf.Tensor1D;
  let expected: tf.Tensor4D;

  beforeAll(async () => {
    await initBackend(backend);
    folder = await mkdtemp(join(tmpdir(), 'models-round-trip-'));
    model = await UNet2DModel.fromPretrained(UNET2D_TINY_FOLDER);
    const io = readFixtureJson<TinyIo>('io.json');
    sample = nchwToNhwc(io.inputs.sample);
    timesteps = tf.tensor1d(io.inputs.timestep.data, 'int32');
    expected = nchwToNhwc(io.output.sample);
  });

  afterAll(async () => {
    model.dispose();
    tf.dispose([sample, timesteps, expected]);
    await rm(folder, { recursive: true, force: true });
  });

  it('loads the Diffusers folder and matches its output', () => {
    const output = model.predict(sample, timesteps);
    expect(maxAbsDifference(output, expected)).toBeLessThan(1e-4);
    expect(model.loadWarnings).toEqual([]);
    output.dispose();
  });

  it('saves a folder that loads back to identical outputs, with Diffusers config keys and weights', async () => {
    await model.save(folder);
    const saved = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as ConfigJson;
    const original = readFixtureJson<ConfigJson>('config.json');
    expect(Object.keys(saved).sort()).toEqual(Object.keys(original).sort());
    expect(Object.keys(saved).slice(0, 2)).toEqual(['_class_name', '_diffusers_version']);
    for (const key of Object.keys(original).filter((name) => !name.startsWith('_'))) expect(saved[key]).toEqual(original[key]);

    const reloaded = await UNet2DModel.fromPretrained(folder);
    const a = model.predict(sample, timesteps);
    const b = reloaded.predict(sample, timesteps);
    expect(maxAbsDifference(a, b)).toBe(0);
    tf.dispose([a, b]);
    reloaded.dispose();

    // The saved tensors are the fixture's, bit for bit, in PyTorch layout.
    const before = await loadSafetensors(join(UNET2D_TINY_FOLDER, 'diffusion_pytorch_model.safetensors'));
    const after = await loadSafetensors(join(folder, 'diffusion_pytorch_model.safetensors'));
    expect(Object.keys(after.tensors).sort()).toEqual(Object.keys(before.tensors).sort());
    expect(after.metadata).toEqual({ format: 'pt' });
    for (const [name, tensor] of Object.entries(before.tensors)) {
      expect(after.tensors[name].shape).toEqual(tensor.shape);
      expect(Buffer.from((after.tensors[name].data as Float32Array).buffer).equals(Buffer.from((tensor.data as Float32Array).buffer))).toBe(
        true,
      );
    }
  });

  it('loads F16 and BF16 checkpoints', async () => {
    const file = await loadSafetensors(join(UNET2D_TINY_FOLDER, 'diffusion_pytorch_model.safetensors'));
    for (const dtype of ['F16', 'BF16'] as const) {
      const narrow = Object.fromEntries(Object.entries(file.tensors).map(([name, tensor]) => [name, { ...tensor, dtype }]));
      const half = join(folder, dtype);
      await saveSafetensors(join(half, 'diffusion_pytorch_model.safetensors'), narrow);
      const { writeConfigFile } = await import('@diffusion-ts/core');
      await writeConfigFile(join(half, 'config.json'), readFixtureJson<ConfigJson>('config.json'));
      const halfModel = await UNet2DModel.fromPretrained(half);
      const output = halfModel.predict(sample, timesteps);
      const error = maxAbsDifference(output, expected);
      expect(error).toBeLessThan(dtype === 'F16' ? 2e-2 : 2e-1);
      expect(error).toBeGreaterThan(0);
      output.dispose();
      halfModel.dispose();
    }
    // Diffusers' variant files: `diffusion_pytorch_model.fp16.safetensors` next to the float32 one.
    const fp16 = join(folder, 'F16');
    await rename(join(fp16, 'diffusion_pytorch_model.safetensors'), join(fp16, 'diffusion_pytorch_model.fp16.safetensors'));
    const variant = await UNet2DModel.fromPretrained(fp16, { variant: 'fp16' });
    expect(variant.parameterCount).toBe(702_499);
    variant.dispose();
    await expect(UNet2DModel.fromPretrained(fp16)).rejects.toThrow(/diffusion_pytorch_model\.safetensors/);
    await expect(UNet2DModel.fromPretrained(fp16, { variant: '../fp16' })).rejects.toThrow(/variant '\.\.\/fp16' must be a plain name/);
  });

  it('names missing weights in the error and the source when the file lacks them', async () => {
    const file = await loadSafetensors(join(UNET2D_TINY_FOLDER, 'diffusion_pytorch_model.safetensors'));
    delete file.tensors['up_blocks.0.upsamplers.0.conv.weight'];
    const broken = join(folder, 'broken');
    await saveSafetensors(join(broken, 'diffusion_pytorch_model.safetensors'), file.tensors);
    const { writeConfigFile } = await import('@diffusion-ts/core');
    await writeConfigFile(join(broken, 'config.json'), readFixtureJson<ConfigJson>('config.json'));
    const before = tf.memory().numTensors;
    await expect(UNet2DModel.fromPretrained(broken)).rejects.toThrow(WeightsError);
    await expect(UNet2DModel.fromPretrained(broken)).rejects.toThrow(/up_blocks\.0\.upsamplers\.0\.conv\.weight/);
    expect(tf.memory().numTensors).toBe(before);
    await expect(UNet2DModel.fromPretrained(join(folder, 'nowhere'))).rejects.toThrow(/config\.json/);
  });

  it('reports unused weights through onWarning', async () => {
    const file = await loadSafetensors(join(UNET2D_TINY_FOLDER, 'diffusion_pytorch_model.safetensors'));
    file.tensors['leftover.weight'] = { dtype: 'F32', shape: [2], data: new Float32Array(2) };
    const extra = join(folder, 'extra');
    await saveSafetensors(join(extra, 'diffusion_pytorch_model.safetensors'), file.tensors);
    const { writeConfigFile } = await import('@diffusion-ts/core');
    await writeConfigFile(join(extra, 'config.json'), readFixtureJson<ConfigJson>('config.json'));
    const warnings: string[] = [];
    const loaded = await UNet2DModel.fromPretrained(extra, { onWarning: (message) => warnings.push(message) });
    expect(warnings).toEqual([expect.stringMatching(/leftover\.weight/)]);
    expect(loaded.loadWarnings).toEqual(warnings);
    loaded.dispose();
  });
});

describe('fromPretrained refuses hostile folders before reading the weights (issue 17)', () => {
  beforeAll(() => initBackend('cpu'));

  it('checks the config (ranges, budget) first, and paths and limits are those of core', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'models-hostile-'));
    try {
      await mkdir(join(folder, 'unet'));
      // No weights file: a ConfigError (not a missing-file LoadError) shows the config came first.
      await writeFile(join(folder, 'unet', 'config.json'), JSON.stringify({ _class_name: 'UNet2DModel', layers_per_block: 1e6 }));
      await expect(UNet2DModel.fromPretrained(folder, { subfolder: 'unet' })).rejects.toThrow(ConfigError);
      await writeFile(
        join(folder, 'unet', 'config.json'),
        JSON.stringify({
          _class_name: 'UNet2DModel',
          block_out_channels: [32, 64],
          down_block_types: ['DownBlock2D', 'DownBlock2D'],
          up_block_types: ['UpBlock2D', 'UpBlock2D'],
        }),
      );
      await expect(UNet2DModel.fromPretrained(folder, { subfolder: 'unet', budget: { maxParameters: 10 } })).rejects.toThrow(
        /budget of 10 /,
      );
      await expect(UNet2DModel.fromPretrained(folder, { subfolder: 'unet' })).rejects.toMatchObject({ fault: 'not-found' });
      await expect(UNet2DModel.fromPretrained(folder, { subfolder: '%2e%2e/unet' })).rejects.toThrow(LoadError);
      await expect(UNet2DModel.fromPretrained(folder, { subfolder: 'unet', maxTextBytes: 10 })).rejects.toMatchObject({
        fault: 'too-large',
      });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
