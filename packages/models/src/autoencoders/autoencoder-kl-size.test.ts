/**
 * The AutoencoderKL's size estimate and budget (issue 17 applied to the VAE): parameters counted
 * from the config alone, absurd configs refused by range or budget before anything is allocated,
 * and `fromPretrained` refusing before it reads the weights.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, type ConfigJson } from '@diffusion-ts/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_BUDGET } from '../budget/index.js';
import { AUTOENCODER_KL_SMALL_FOLDER, AUTOENCODER_KL_VARIANT_FOLDER } from '../testing/autoencoder-fixtures.js';
import { AutoencoderKL } from './autoencoder-kl.js';
import { AUTOENCODER_KL_DEFAULTS, type AutoencoderKLOptions } from './autoencoder-kl-config.js';
import { estimateAutoencoderKL } from './autoencoder-kl-size.js';
import { expectConfigError } from '../testing/config-error.js';

/** Stable Diffusion 1.5's VAE (runwayml/stable-diffusion-v1-5, vae/config.json), as options. */
const SD15_VAE: AutoencoderKLOptions = {
  ...AUTOENCODER_KL_DEFAULTS,
  blockOutChannels: [128, 256, 512, 512],
  downBlockTypes: ['DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D'],
  layersPerBlock: 2,
  sampleSize: 512,
  upBlockTypes: ['UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D'],
};

const quiet = { onWarning: () => {} };
const readConfig = async (folder: string): Promise<ConfigJson> =>
  JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as ConfigJson;

describe('AutoencoderKL size estimate and budget', () => {
  beforeAll(() => initBackend('cpu'));

  it('counts the parameters exactly (Diffusers counts 86,006 for the variant fixture)', async () => {
    const small = await readConfig(AUTOENCODER_KL_SMALL_FOLDER);
    const variant = await readConfig(AUTOENCODER_KL_VARIANT_FOLDER);
    for (const config of [
      small,
      variant,
      { ...small, mid_block_add_attention: false, use_quant_conv: false },
      { ...variant, layers_per_block: 1 },
    ]) {
      const model = AutoencoderKL.fromConfig(config, quiet);
      expect(estimateAutoencoderKL(model.config).parameters).toBe(model.parameterCount);
      model.dispose();
    }
    const model = AutoencoderKL.fromConfig(variant, quiet);
    expect(estimateAutoencoderKL(model.config).parameters).toBe(86_006);
    model.dispose();
  });

  it("counts Stable Diffusion's VAE without building it, well within the default budget", () => {
    const estimate = estimateAutoencoderKL(SD15_VAE);
    // Diffusers: sum(p.numel() for p in AutoencoderKL.from_pretrained(sd15, subfolder="vae").parameters()).
    expect(estimate.parameters).toBe(83_653_863);
    expect(estimate.activationBytes!).toBeGreaterThan(2 ** 30);
    expect(estimate.activationBytes!).toBeLessThan(DEFAULT_MODEL_BUDGET.maxActivationBytes);
    expect(estimateAutoencoderKL(SD15_VAE, { batch: 2 }).activationBytes).toBe(2 * estimate.activationBytes!);
    expect(estimateAutoencoderKL(SD15_VAE, { height: 256 }).activationBytes!).toBeLessThan(estimate.activationBytes! / 3);
  });

  it('refuses absurd values by range and configs beyond the budget, allocating nothing', async () => {
    const small = await readConfig(AUTOENCODER_KL_SMALL_FOLDER);
    const before = tf.memory().numTensors;
    expect(expectConfigError(() => AutoencoderKL.fromConfig({ ...small, layers_per_block: 1e9 })).message).toMatch(
      /'layers_per_block' must lie in \[1, 32\], got 1000000000/,
    );
    expect(expectConfigError(() => AutoencoderKL.fromConfig({ ...small, latent_channels: 0 })).key).toBe('latent_channels');
    expect(expectConfigError(() => AutoencoderKL.fromConfig({ ...small, scaling_factor: -1 })).message).toMatch(
      /'scaling_factor' must lie in \(0, 1000\], got -1/,
    );
    expect(expectConfigError(() => AutoencoderKL.fromConfig({ ...small, latents_std: [1, 0, 1, 1] })).message).toMatch(
      /'latents_std' must hold values > 0, got 0 at index 1/,
    );
    const huge = { ...small, block_out_channels: [16384, 16384], layers_per_block: 32 };
    expect(expectConfigError(() => AutoencoderKL.fromConfig(huge)).message).toMatch(
      /AutoencoderKL: the config describes [\d,]+ parameters .*budget\.maxParameters/,
    );
    expect(expectConfigError(() => AutoencoderKL.fromConfig(small, { budget: { maxParameters: 1000 } })).message).toMatch(
      /budget of 1,000 /,
    );
    const wide = expectConfigError(() =>
      AutoencoderKL.fromConfig({ ...small, sample_size: 16384 }, { budget: { maxActivationBytes: 2 ** 30 } }),
    );
    expect(wide.message).toMatch(/needs about [\d.,]+ [KMGTP]iB of activations at sample_size 16384, more than the budget of 1.00 GiB/);
    expect(wide.key).toBe('sample_size');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fromPretrained refuses a config beyond the budget before reading the weights', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'vae-budget-'));
    try {
      // No weights file: a budget failure must come first.
      await writeFile(join(folder, 'config.json'), JSON.stringify(await readConfig(AUTOENCODER_KL_SMALL_FOLDER)));
      await expect(AutoencoderKL.fromPretrained(folder, { budget: { maxParameters: 1000 } })).rejects.toThrow(
        /AutoencoderKL: the config describes .* budget of 1,000 /,
      );
      const model = await AutoencoderKL.fromPretrained(AUTOENCODER_KL_SMALL_FOLDER, { budget: { maxParameters: 1e6 } });
      expect(model.parameterCount).toBeLessThan(1e6);
      model.dispose();
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
