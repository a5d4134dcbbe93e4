/** Tiny random models for tests (not part of the public API). */
import type { ConfigJson } from '@diffusion-ts/core';

/** A 1-channel 8x8 UNet2DModel with two levels. */
export const TINY_UNET: ConfigJson = {
  sample_size: 8,
  in_channels: 1,
  out_channels: 1,
  block_out_channels: [8, 16],
  layers_per_block: 1,
  norm_num_groups: 4,
  down_block_types: ['DownBlock2D', 'DownBlock2D'],
  up_block_types: ['UpBlock2D', 'UpBlock2D'],
};

/** The tiny UNet with a 4-entry class embedding (3 classes plus the null class). */
export const TINY_CLASS_UNET: ConfigJson = { ...TINY_UNET, num_class_embeds: 4 };

/** A tiny cross-attention UNet2DConditionModel (encoder states of width 12). */
export const TINY_CONDITION_UNET: ConfigJson = {
  sample_size: 8,
  in_channels: 1,
  out_channels: 1,
  block_out_channels: [8, 16],
  layers_per_block: 1,
  norm_num_groups: 4,
  attention_head_dim: 2,
  cross_attention_dim: 12,
  down_block_types: ['CrossAttnDownBlock2D', 'DownBlock2D'],
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D'],
};
