/**
 * The CLIP text encoders' size estimate and budget (issue 17 applied to the text encoder):
 * parameters counted from the config alone, absurd configs refused by range or budget before
 * anything is allocated, and `fromPretrained` refusing before it reads the weights.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, type ConfigJson } from '@diffusion-ts/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_BUDGET } from '../budget/index.js';
import { CLIP_TEXT_SMALL_FOLDER } from '../testing/clip-fixtures.js';
import { CLIP_TEXT_DEFAULTS, type CLIPTextOptions } from './clip-text-config.js';
import { CLIPTextModel, CLIPTextModelWithProjection } from './clip-text-model.js';
import { estimateCLIPText } from './clip-text-size.js';
import { expectConfigError } from '../testing/config-error.js';

/** Stable Diffusion 1.5's text encoder (OpenAI CLIP ViT-L/14's text tower). */
const SD15_TEXT: CLIPTextOptions = {
  ...CLIP_TEXT_DEFAULTS,
  hiddenSize: 768,
  intermediateSize: 3072,
  numAttentionHeads: 12,
  numHiddenLayers: 12,
  projectionDim: 768,
};
/** SDXL's second text encoder (OpenCLIP ViT-bigG/14's text tower, with projection). */
const SDXL_TEXT_2: CLIPTextOptions = {
  ...CLIP_TEXT_DEFAULTS,
  hiddenAct: 'gelu',
  hiddenSize: 1280,
  intermediateSize: 5120,
  numAttentionHeads: 20,
  numHiddenLayers: 32,
  projectionDim: 1280,
};

const quiet = { onWarning: () => {} };
const SMALL_CONFIG = join(CLIP_TEXT_SMALL_FOLDER, 'text_encoder/config.json');

describe('CLIP text encoder size estimate and budget', () => {
  let small: ConfigJson;
  beforeAll(async () => {
    await initBackend('cpu');
    small = JSON.parse(await readFile(SMALL_CONFIG, 'utf8')) as ConfigJson;
  });

  it('counts the parameters exactly, with and without the projection', () => {
    for (const config of [small, { ...small, num_hidden_layers: 0 }, { ...small, intermediate_size: 40, projection_dim: 3 }]) {
      const plain = CLIPTextModel.fromConfig(config, quiet);
      expect(estimateCLIPText(plain.config, false).parameters).toBe(plain.parameterCount);
      plain.dispose();
      const projected = CLIPTextModelWithProjection.fromConfig(config, quiet);
      expect(estimateCLIPText(projected.config, true).parameters).toBe(projected.parameterCount);
      projected.dispose();
    }
  });

  it("counts Stable Diffusion's and SDXL's text encoders without building them, within the default budget", () => {
    // transformers: CLIPTextModel.from_pretrained(sd15, subfolder="text_encoder").num_parameters().
    expect(estimateCLIPText(SD15_TEXT, false).parameters).toBe(123_060_480);
    // CLIPTextModelWithProjection.from_pretrained(sdxl, subfolder="text_encoder_2").num_parameters().
    const bigG = estimateCLIPText(SDXL_TEXT_2, true);
    expect(bigG.parameters).toBe(694_659_840);
    expect(bigG.parameters).toBeLessThan(DEFAULT_MODEL_BUDGET.maxParameters);
    expect(bigG.activationBytes!).toBeLessThan(2 ** 30);
    expect(estimateCLIPText(SD15_TEXT, false, { batch: 2 }).activationBytes).toBe(2 * estimateCLIPText(SD15_TEXT, false).activationBytes!);
  });

  it('refuses absurd values by range and configs beyond the budget, allocating nothing', () => {
    const before = tf.memory().numTensors;
    expect(expectConfigError(() => CLIPTextModel.fromConfig({ ...small, num_hidden_layers: 1e9 })).message).toMatch(
      /'num_hidden_layers' must lie in \[0, 256\], got 1000000000/,
    );
    expect(expectConfigError(() => CLIPTextModel.fromConfig({ ...small, intermediate_size: 1e7 })).key).toBe('intermediate_size');
    expect(expectConfigError(() => CLIPTextModel.fromConfig({ ...small, layer_norm_eps: -1 })).message).toMatch(
      /'layer_norm_eps' must lie in \(0, 1\], got -1/,
    );
    expect(expectConfigError(() => CLIPTextModel.fromConfig({ ...small, max_position_embeddings: 1e7 })).key).toBe(
      'max_position_embeddings',
    );
    const deep = { ...small, hidden_size: 16384, num_attention_heads: 128, intermediate_size: 65536, num_hidden_layers: 256 };
    expect(expectConfigError(() => CLIPTextModel.fromConfig(deep)).message).toMatch(
      /CLIPTextModel: the config describes [\d,]+ parameters .*budget\.maxParameters/,
    );
    expect(expectConfigError(() => CLIPTextModelWithProjection.fromConfig(small, { budget: { maxParameters: 1000 } })).message).toMatch(
      /budget of 1,000 /,
    );
    const long = expectConfigError(() =>
      CLIPTextModel.fromConfig({ ...small, max_position_embeddings: 16384 }, { budget: { maxActivationBytes: 2 ** 30 } }),
    );
    expect(long.message).toMatch(
      /needs about [\d.,]+ [KMGTP]iB of activations at max_position_embeddings 16384, more than the budget of 1.00 GiB/,
    );
    expect(long.key).toBe('max_position_embeddings');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fromPretrained refuses a config beyond the budget before reading the weights', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'clip-budget-'));
    try {
      // No weights file: a budget failure must come first.
      await writeFile(join(folder, 'config.json'), JSON.stringify(small));
      await expect(CLIPTextModelWithProjection.fromPretrained(folder, { budget: { maxParameters: 1000 } })).rejects.toThrow(
        /CLIPTextModelWithProjection: the config describes .* budget of 1,000 /,
      );
      const model = await CLIPTextModelWithProjection.fromPretrained(CLIP_TEXT_SMALL_FOLDER, {
        subfolder: 'text_encoder',
        budget: { maxParameters: 1e7 },
      });
      expect(model.parameterCount).toBeLessThan(1e7);
      model.dispose();
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
