import { Generator, initBackend, loadSafetensors, type PretrainedSource } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AutoencoderKL } from './autoencoders/autoencoder-kl.js';
import type { ModelMixin } from './model-mixin.js';
import type { FromPretrainedOptions } from './pretrained-io.js';
import { AUTOENCODER_KL_SMALL_FOLDER } from './testing/autoencoder-fixtures.js';
import { CLIP_TEXT_SMALL_FOLDER } from './testing/clip-fixtures.js';
import { UNET2D_TINY_FOLDER } from './testing/fixtures.js';
import { TINY_CONDITION_UNET } from './testing/unet-configs.js';
import { CLIPTextModel, CLIPTextModelWithProjection } from './text/clip-text-model.js';
import { UNet2DConditionModel } from './unet-2d-condition.js';
import { UNet2DModel } from './unet-2d.js';

type LoadedModel = Pick<ModelMixin<object>, 'exportWeights' | 'parameterNames' | 'dispose'>;
type Loader = (source: string | PretrainedSource, options: FromPretrainedOptions) => Promise<LoadedModel>;

/** Every model class, loading a folder whose weights file is `weights` (under `subfolder`). */
const CASES: { name: string; load: Loader; folder: () => string; subfolder?: string; weights: string }[] = [
  {
    name: 'UNet2DModel',
    load: (s, o) => UNet2DModel.fromPretrained(s, o),
    folder: () => UNET2D_TINY_FOLDER,
    weights: 'diffusion_pytorch_model.safetensors',
  },
  {
    name: 'UNet2DConditionModel',
    load: (s, o) => UNet2DConditionModel.fromPretrained(s, o),
    folder: () => conditionFolder,
    weights: 'diffusion_pytorch_model.safetensors',
  },
  {
    name: 'AutoencoderKL',
    load: (s, o) => AutoencoderKL.fromPretrained(s, o),
    folder: () => AUTOENCODER_KL_SMALL_FOLDER,
    weights: 'diffusion_pytorch_model.safetensors',
  },
  {
    name: 'CLIPTextModel',
    load: (s, o) => CLIPTextModel.fromPretrained(s, o),
    folder: () => CLIP_TEXT_SMALL_FOLDER,
    subfolder: 'text_encoder',
    weights: 'model.safetensors',
  },
  {
    name: 'CLIPTextModelWithProjection',
    load: (s, o) => CLIPTextModelWithProjection.fromPretrained(s, o),
    folder: () => CLIP_TEXT_SMALL_FOLDER,
    subfolder: 'text_encoder',
    weights: 'model.safetensors',
  },
];

let root: string;
let conditionFolder: string;

describe.each(testBackendNames())('fromPretrained of every model class on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
    root = await mkdtemp(join(tmpdir(), 'pretrained-load-'));
    conditionFolder = join(root, 'unet');
    const model = UNet2DConditionModel.fromConfig(TINY_CONDITION_UNET, { seed: 3 });
    await model.save(conditionFolder);
    model.dispose();
  });
  afterAll(() => rm(root, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());

  it.each(CASES)('$name draws no random initial weights and holds exactly the file', async ({ load, folder, subfolder, weights }) => {
    const draws = [vi.spyOn(Generator.prototype, 'normal'), vi.spyOn(Generator.prototype, 'uniform')];
    const before = tf.memory().numTensors;
    const model = await load(folder(), { subfolder, onWarning: () => {} });
    for (const draw of draws) expect(draw).not.toHaveBeenCalled();

    const file = (await loadSafetensors(join(folder(), subfolder ?? '', weights))).tensors;
    const exported = await model.exportWeights();
    expect(Object.keys(exported).length).toBe(model.parameterNames().length);
    for (const [name, tensor] of Object.entries(exported)) {
      const expected = file[name];
      expect(tensor.shape, name).toEqual(expected.shape);
      expect(Buffer.from(tensor.data.buffer).equals(Buffer.from((expected.data as Float32Array).buffer)), name).toBe(true);
    }
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
