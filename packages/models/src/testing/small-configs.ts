import type { UNet2DConditionOptions } from '../unet-2d-condition-config.js';
import type { UNet2DOptions } from '../unet-2d-config.js';

/** A very small UNet2DModel with every block kind (for training and gradient tests). */
export const SMALL_UNET_2D: Partial<UNet2DOptions> = {
  sampleSize: 8,
  inChannels: 3,
  outChannels: 3,
  blockOutChannels: [8, 16],
  layersPerBlock: 1,
  normNumGroups: 4,
  attentionHeadDim: 8,
  downBlockTypes: ['DownBlock2D', 'AttnDownBlock2D'],
  upBlockTypes: ['AttnUpBlock2D', 'UpBlock2D'],
};

/** A very small UNet2DConditionModel with cross-attention down, mid and up blocks. */
export const SMALL_UNET_2D_CONDITION: Partial<UNet2DConditionOptions> = {
  sampleSize: 8,
  inChannels: 4,
  outChannels: 4,
  blockOutChannels: [8, 16],
  layersPerBlock: 1,
  normNumGroups: 4,
  attentionHeadDim: 2,
  crossAttentionDim: 12,
  downBlockTypes: ['CrossAttnDownBlock2D', 'DownBlock2D'],
  upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D'],
};
