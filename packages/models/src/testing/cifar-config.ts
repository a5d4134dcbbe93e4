import type { UNet2DOptions } from '../unet-2d-config.js';

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
