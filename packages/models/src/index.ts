export { UNet2DModel, type FromConfigOptions, type UNet2DConditioning } from './unet-2d.js';
export { UNET_2D_DEFAULTS, UNET_2D_SCHEMA, type UNet2DOptions } from './unet-2d-config.js';
export { WeightsError, diffusersShape, type ExportedWeight, type ImportReport, type WeightTensor } from './weights.js';
export { CONFIG_NAME, TRANSFORMERS_WEIGHTS_NAME, WEIGHTS_NAME, type FromPretrainedOptions } from './pretrained-io.js';
export type { SaveOptions } from './model-mixin.js';
export {
  DOWN_BLOCKS,
  DOWN_BLOCK_TYPES,
  MID_BLOCKS,
  MID_BLOCK_TYPES,
  UP_BLOCKS,
  UP_BLOCK_TYPES,
  type DownBlockType,
  type MidBlockType,
  type UpBlockType,
} from './block-registry.js';
export { UNet2DConditionModel, type UNet2DConditionConditioning } from './unet-2d-condition.js';
export {
  UNET_2D_CONDITION_DEFAULTS,
  UNET_2D_CONDITION_SCHEMA,
  type PerBlock,
  type UNet2DConditionOptions,
} from './unet-2d-condition-config.js';
export { countFlops, countFlopsDetailed, type CountFlopsOptions, type FlopBreakdown } from './flops.js';
export { DEFAULT_MODEL_BUDGET, type ModelBudget, type ModelSizeEstimate, type UNetEstimateSize } from './budget/index.js';
/** Parameters and peak activation bytes of a UNet config, estimated from its layers without building it. */
export { estimateUNetSize } from './unet-size-estimate.js';
export {
  CLIPTextModel,
  CLIPTextModelBase,
  CLIPTextModelWithProjection,
  type CLIPTextEncodeOptions,
  type CLIPTextModelWithProjectionOutput,
} from './text/clip-text-model.js';
export type { CLIPTextModelOutput } from './text/clip-text-transformer.js';
export {
  CLIP_TEXT_ACTIVATIONS,
  CLIP_TEXT_DEFAULTS,
  CLIP_TEXT_SCHEMA,
  type CLIPTextActivation,
  type CLIPTextOptions,
} from './text/clip-text-config.js';
export { TextInputError } from './text/text-inputs.js';
export {
  AutoencoderKL,
  type AutoencoderKLForwardOptions,
  type AutoencoderKLRunOptions,
  type AutoencoderKLTilingOptions,
} from './autoencoders/autoencoder-kl.js';
export { AUTOENCODER_KL_DEFAULTS, AUTOENCODER_KL_SCHEMA, type AutoencoderKLOptions } from './autoencoders/autoencoder-kl-config.js';
export { DiagonalGaussianDistribution } from './autoencoders/diagonal-gaussian.js';
export {
  DECODER_BLOCK_TYPES,
  DECODER_BLOCKS,
  ENCODER_BLOCK_TYPES,
  ENCODER_BLOCKS,
  type DecoderBlockType,
  type EncoderBlockType,
} from './block-registry.js';
export { attentionScoreBudget, DEFAULT_ATTENTION_SCORE_BUDGET, setAttentionScoreBudget } from './layers/scaled-dot-product-attention.js';
