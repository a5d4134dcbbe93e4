/** The default UNet of `diffusion-ts train`. */
import type { ConfigJson } from '@diffusion-ts/core';

/**
 * The small MNIST UNet `diffusion-ts train` builds without `--config` (Diffusers config keys; 267k
 * parameters, no attention: minutes of training on a CPU). The shipped models are larger
 * (`scripts/models/mnist-ddpm-unet.json`, 2.7M parameters).
 */
export const MNIST_UNET_CONFIG: ConfigJson = {
  sample_size: 32,
  in_channels: 1,
  out_channels: 1,
  block_out_channels: [16, 32, 32],
  layers_per_block: 1,
  down_block_types: ['DownBlock2D', 'DownBlock2D', 'DownBlock2D'],
  up_block_types: ['UpBlock2D', 'UpBlock2D', 'UpBlock2D'],
  norm_num_groups: 8,
};
