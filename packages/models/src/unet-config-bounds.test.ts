/**
 * Hostile and absurd UNet configs (issue 17): every numeric key is checked for type, sign and a
 * sane range, the structure (group and head divisibility) is checked, and the size is estimated
 * and held to a budget, all before anything is allocated; failures are ConfigErrors naming the key.
 */
import { initBackend, type ConfigJson } from '@diffusion-ts/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_BUDGET } from './budget/index.js';
import { estimateUNetSize } from './unet-size-estimate.js';
import { DDPM_CIFAR10_CONFIG, SD15_UNET_CONFIG, SMALL_UNET_2D, SMALL_UNET_2D_CONDITION } from './testing/index.js';
import { UNet2DConditionModel } from './unet-2d-condition.js';
import { UNet2DModel } from './unet-2d.js';
import { expectConfigError } from './testing/config-error.js';

/**
 * SDXL base's UNet config without its `text_time` addition embedding (which this library does not
 * build yet): the 2.57B-parameter layout the default budget must admit.
 */
const SDXL_UNET_BODY: ConfigJson = {
  _class_name: 'UNet2DConditionModel',
  attention_head_dim: [5, 10, 20],
  block_out_channels: [320, 640, 1280],
  cross_attention_dim: 2048,
  down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
  in_channels: 4,
  layers_per_block: 2,
  out_channels: 4,
  sample_size: 128,
  transformer_layers_per_block: [1, 2, 10],
  up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
  use_linear_projection: true,
};

describe('UNet config bounds', () => {
  beforeAll(() => initBackend('cpu'));

  const unet = (overrides: ConfigJson) => () => UNet2DModel.fromConfig({ ...(SMALL_UNET_2D as ConfigJson), ...overrides });
  const conditional = (overrides: ConfigJson) => () =>
    UNet2DConditionModel.fromConfig({ ...(SMALL_UNET_2D_CONDITION as ConfigJson), ...overrides });

  it.each<[string, ConfigJson, RegExp]>([
    ['layers_per_block', { layers_per_block: 1e6 }, /'layers_per_block' must lie in \[1, 32\], got 1000000/],
    ['time_embedding_dim', { time_embedding_dim: 1e7 }, /'time_embedding_dim' must lie in \[1, 16384\]/],
    [
      'num_train_timesteps',
      { time_embedding_type: 'learned', num_train_timesteps: 1e8 },
      /'num_train_timesteps' must lie in \[1, 100000\]/,
    ],
    [
      'num_train_timesteps',
      { time_embedding_type: 'learned', num_train_timesteps: 0 },
      /'num_train_timesteps' must lie in \[1, 100000\], got 0/,
    ],
    ['norm_eps', { norm_eps: -1 }, /'norm_eps' must lie in \(0, 1\], got -1/],
    ['attention_head_dim', { attention_head_dim: -8 }, /'attention_head_dim' must lie in \[1, 16384\], got -8/],
    ['norm_num_groups', { norm_num_groups: 0 }, /'norm_num_groups' must lie in \[1, 4096\], got 0/],
    [
      'norm_num_groups',
      { norm_num_groups: 3 },
      /'norm_num_groups' = 3 must divide every GroupNorm width, but down_blocks\.0\.resnets\.0\.norm1 has 8 channels/,
    ],
    [
      'block_out_channels',
      { block_out_channels: [8, 1e9] },
      /'block_out_channels' must hold values in \[1, 16384\], got 1000000000 at index 1/,
    ],
    ['in_channels', { in_channels: 1e7 }, /'in_channels' must lie in \[1, 4096\]/],
    ['dropout', { dropout: 2 }, /'dropout' must lie in \[0, 1\)/],
    ['sample_size', { sample_size: 1e9 }, /'sample_size' must be a positive integer up to 16384 or \[height, width\]/],
    ['num_class_embeds', { num_class_embeds: -3 }, /'num_class_embeds' must lie in \[1, 100000\]/],
    [
      'attention_head_dim',
      { attention_head_dim: 3 },
      /'attention_head_dim' = 3 must divide the 16 channels of down_blocks\.1\.attentions\.0/,
    ],
    ['freq_shift', { freq_shift: 1e9 }, /'freq_shift' must lie in \[0, 1\]/],
  ])('UNet2DModel refuses %s: %o', (key, overrides, message) => {
    const error = expectConfigError(unet(overrides));
    expect(error.message).toMatch(message);
    expect(error.key).toBe(key);
  });

  it.each<[string, ConfigJson, RegExp]>([
    [
      'cross_attention_dim',
      { cross_attention_dim: 1e7 },
      /'cross_attention_dim' must be an integer in \[1, 16384\] or a list of 2 of them, got 10000000/,
    ],
    [
      'transformer_layers_per_block',
      { transformer_layers_per_block: 1e6 },
      /'transformer_layers_per_block' must be an integer in \[1, 64\]/,
    ],
    ['layers_per_block', { layers_per_block: [1, 1e6] }, /'layers_per_block' must be an integer in \[1, 32\]/],
    ['time_embedding_dim', { time_embedding_dim: 1e7 }, /'time_embedding_dim' must lie in \[1, 16384\]/],
    ['norm_eps', { norm_eps: 0 }, /'norm_eps' must lie in \(0, 1\]/],
    ['attention_head_dim', { attention_head_dim: -8 }, /'attention_head_dim' must be an integer in \[1, 16384\]/],
    ['num_attention_heads', { num_attention_heads: 3 }, /3 attention heads .* must divide the 8 channels of down_blocks\.0\.attentions\.0/],
    [
      'block_out_channels',
      { block_out_channels: [8, 10] },
      /'norm_num_groups' = 4 must divide every GroupNorm width, but down_blocks\.1\.resnets\.0\.norm2 has 10 channels/,
    ],
    ['conv_in_kernel', { conv_in_kernel: 1e6 + 1 }, /'conv_in_kernel' must lie in \[1, 15\]/],
    ['resnet_out_scale_factor', { resnet_out_scale_factor: -1 }, /'resnet_out_scale_factor' must lie in \(0, 1000\]/],
  ])('UNet2DConditionModel refuses %s: %o', (key, overrides, message) => {
    const error = expectConfigError(conditional(overrides));
    expect(error.message).toMatch(message);
    if (key !== 'block_out_channels') expect(error.key).toBe(key);
  });

  it('builds error messages for deeply nested values without overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    for (const key of ['layers_per_block', 'cross_attention_dim', 'attention_head_dim', 'transformer_layers_per_block', 'sample_size']) {
      const error = expectConfigError(conditional({ [key]: deep as ConfigJson[string] }));
      expect(error.message.length).toBeLessThan(300);
    }
  });

  it('allocates nothing when it refuses', () => {
    const before = tf.memory().numTensors;
    expectConfigError(unet({ norm_num_groups: 3 }));
    expectConfigError(unet({ block_out_channels: [16384, 16384, 16384, 16384], norm_num_groups: 32 }));
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the size estimate and the budget', () => {
  beforeAll(() => initBackend('cpu'));

  it('counts parameters exactly for every block kind', () => {
    for (const [Model, config] of [
      [UNet2DModel, SMALL_UNET_2D],
      [UNet2DModel, DDPM_CIFAR10_CONFIG],
      [
        UNet2DModel,
        { ...SMALL_UNET_2D, timeEmbeddingType: 'learned', numTrainTimesteps: 50, numClassEmbeds: 3, resnetTimeScaleShift: 'scale_shift' },
      ],
      [UNet2DConditionModel, SMALL_UNET_2D_CONDITION],
      [
        UNet2DConditionModel,
        {
          ...SMALL_UNET_2D_CONDITION,
          useLinearProjection: true,
          transformerLayersPerBlock: [2, 1],
          onlyCrossAttention: [true, false],
          classEmbedType: 'timestep',
        },
      ],
    ] as const) {
      const model = (Model as typeof UNet2DModel).fromConfig(config as ConfigJson);
      const estimate = estimateUNetSize(model.toConfig());
      expect(estimate.parameters).toBe(model.parameterCount);
      model.dispose();
    }
    expect(estimateUNetSize(DDPM_CIFAR10_CONFIG as ConfigJson).parameters).toBe(35_746_307);
  });

  it('counts Stable Diffusion 1.5 and SDXL without building them, within the default budget', () => {
    // Diffusers reports 859,520,964 parameters for SD 1.5's UNet.
    expect(estimateUNetSize(SD15_UNET_CONFIG).parameters).toBe(859_520_964);
    // SDXL base has 2,567,463,684; its add_embedding (2816 -> 1280 -> 1280) is 5,245,440 of them.
    expect(estimateUNetSize(SDXL_UNET_BODY).parameters).toBe(2_567_463_684 - 5_245_440);
    expect(estimateUNetSize(SDXL_UNET_BODY).parameters).toBeLessThan(DEFAULT_MODEL_BUDGET.maxParameters);
    const activation = estimateUNetSize(SDXL_UNET_BODY, { batch: 1 }).activationBytes;
    expect(activation).toBeLessThan(DEFAULT_MODEL_BUDGET.maxActivationBytes);
  });

  it('refuses a config beyond the budget before allocating, and takes a larger budget', () => {
    const huge = {
      ...(SMALL_UNET_2D as ConfigJson),
      block_out_channels: [16384, 16384, 16384, 16384],
      norm_num_groups: 32,
      down_block_types: ['DownBlock2D', 'DownBlock2D', 'DownBlock2D', 'DownBlock2D'],
      up_block_types: ['UpBlock2D', 'UpBlock2D', 'UpBlock2D', 'UpBlock2D'],
    };
    const error = expectConfigError(() => UNet2DModel.fromConfig(huge));
    expect(error.message).toMatch(
      /describes [\d,]+ parameters \(\d+ GiB in float32\), more than the budget of 3,000,000,000 \(budget\.maxParameters/,
    );
    const small = expectConfigError(() => UNet2DModel.fromConfig(SMALL_UNET_2D, { budget: { maxParameters: 1000 } }));
    expect(small.message).toMatch(/budget of 1,000 /);
    const wide = expectConfigError(() =>
      UNet2DModel.fromConfig({ ...SMALL_UNET_2D, sampleSize: 16384 }, { budget: { maxActivationBytes: 2 ** 30 } }),
    );
    expect(wide.message).toMatch(/needs about [\d.,]+ [KMGTP]iB of activations at sample_size 16384, more than the budget of 1.00 GiB/);
    const model = UNet2DModel.fromConfig(SMALL_UNET_2D, { budget: { maxParameters: 1e6 } });
    expect(model.parameterCount).toBeLessThan(1e6);
    // A built model estimates a forward pass at any batch and size (pipelines check it before generating).
    const one = model.estimateMemory();
    expect(one.parameterBytes).toBe(4 * model.parameterCount);
    expect(model.estimateMemory({ batch: 3 }).activationBytes).toBe(3 * one.activationBytes!);
    expect(model.estimateMemory({ batch: 1, height: 16, width: 16 }).activationBytes!).toBeGreaterThan(4 * one.activationBytes!);
    model.dispose();
  });
});
