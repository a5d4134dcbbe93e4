/** The component loaders every pipeline starts from: the models package's classes and every scheduler. */
import { AutoencoderKL, CLIPTextModel, CLIPTextModelWithProjection, UNet2DConditionModel, UNet2DModel } from '@diffusion-ts/models';
import { modelLoader, type ComponentLoaders } from './component-loader.js';
import { SCHEDULER_LOADERS } from './scheduler-component.js';

/**
 * The built-in component loaders, by class name. Tokenizers are not among them (a UNet-only user
 * does not install a tokenizer library): a text-to-image pipeline adds its tokenizer's loader.
 */
export const COMPONENT_LOADERS: ComponentLoaders = Object.freeze({
  UNet2DModel: modelLoader(UNet2DModel),
  UNet2DConditionModel: modelLoader(UNet2DConditionModel),
  AutoencoderKL: modelLoader(AutoencoderKL),
  CLIPTextModel: modelLoader(CLIPTextModel, 'transformers'),
  CLIPTextModelWithProjection: modelLoader(CLIPTextModelWithProjection, 'transformers'),
  ...SCHEDULER_LOADERS,
});
