/**
 * Test support for diffusion-ts' own suites and for packages built on it
 * (`@diffusion-ts/models/testing`): the small UNet configs the tests share. Not part of the
 * library API.
 */
export {
  DDPM_CIFAR10_CONFIG,
  SD15_UNET_CONFIG,
  SMALL_UNET_2D,
  SMALL_UNET_2D_CONDITION,
  TINY_CLASS_UNET,
  TINY_CONDITION_UNET,
  TINY_UNET,
} from './unet-configs.js';
