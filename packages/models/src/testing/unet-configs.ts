import type { ConfigJson } from '@diffusion-ts/core';
import type { UNet2DConditionOptions } from '../unet-2d-condition-config.js';
import type { UNet2DOptions } from '../unet-2d-config.js';

/*
 * The small UNet configs of the test suites (models, pipelines, losses), in one place. Each is
 * a partial config: the keys not given take Diffusers' defaults.
 */

/** Two levels of 8 and 16 channels, one resnet each, on 8x8 samples: the size of every config here. */
const TWO_SMALL_LEVELS = { sampleSize: 8, blockOutChannels: [8, 16], layersPerBlock: 1, normNumGroups: 4 } satisfies Partial<UNet2DOptions>;

/** A very small UNet2DModel with every block kind (for training and gradient tests). */
export const SMALL_UNET_2D: Partial<UNet2DOptions> = {
  ...TWO_SMALL_LEVELS,
  inChannels: 3,
  outChannels: 3,
  attentionHeadDim: 8,
  downBlockTypes: ['DownBlock2D', 'AttnDownBlock2D'],
  upBlockTypes: ['AttnUpBlock2D', 'UpBlock2D'],
};

/** A very small UNet2DConditionModel with cross-attention down, mid and up blocks (encoder states of width 12). */
export const SMALL_UNET_2D_CONDITION: Partial<UNet2DConditionOptions> = {
  ...TWO_SMALL_LEVELS,
  inChannels: 4,
  outChannels: 4,
  attentionHeadDim: 2,
  crossAttentionDim: 12,
  downBlockTypes: ['CrossAttnDownBlock2D', 'DownBlock2D'],
  upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D'],
};

/** A 1-channel 8x8 UNet2DModel with two plain levels: the fastest model a pipeline can run. */
export const TINY_UNET: Partial<UNet2DOptions> = {
  ...TWO_SMALL_LEVELS,
  inChannels: 1,
  outChannels: 1,
  downBlockTypes: ['DownBlock2D', 'DownBlock2D'],
  upBlockTypes: ['UpBlock2D', 'UpBlock2D'],
};

/** The tiny UNet with a 4-entry class embedding (3 classes plus the null class). */
export const TINY_CLASS_UNET: Partial<UNet2DOptions> = { ...TINY_UNET, numClassEmbeds: 4 };

/** The 1-channel tiny UNet as a cross-attention UNet2DConditionModel (encoder states of width 12). */
export const TINY_CONDITION_UNET: Partial<UNet2DConditionOptions> = {
  ...SMALL_UNET_2D_CONDITION,
  inChannels: 1,
  outChannels: 1,
};

/** The DDPM CIFAR-10 layout (google/ddpm-cifar10-32): 35.7M parameters, attention at 16x16. */
export const DDPM_CIFAR10_CONFIG: Partial<UNet2DOptions> = {
  sampleSize: 32,
  inChannels: 3,
  outChannels: 3,
  blockOutChannels: [128, 256, 256, 256],
  layersPerBlock: 2,
  attentionHeadDim: null,
  downBlockTypes: ['DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D', 'DownBlock2D'],
  upBlockTypes: ['UpBlock2D', 'UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
  normEps: 1e-6,
  dropout: 0.1,
};

/** Stable Diffusion 1.5's UNet config as Diffusers writes it (runwayml/stable-diffusion-v1-5, unet/config.json): 859,520,964 parameters. */
export const SD15_UNET_CONFIG: ConfigJson = Object.freeze({
  _class_name: 'UNet2DConditionModel',
  act_fn: 'silu',
  attention_head_dim: 8,
  block_out_channels: [320, 640, 1280, 1280],
  center_input_sample: false,
  cross_attention_dim: 768,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  downsample_padding: 1,
  flip_sin_to_cos: true,
  freq_shift: 0,
  in_channels: 4,
  layers_per_block: 2,
  mid_block_scale_factor: 1,
  norm_eps: 1e-5,
  norm_num_groups: 32,
  out_channels: 4,
  sample_size: 64,
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
});
