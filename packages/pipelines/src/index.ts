/**
 * @diffusion-ts/pipelines: generation pipelines (unconditional, class-conditional, conditioned,
 * img2img, Stable Diffusion text-to-image / img2img / inpainting) on one `DiffusionPipeline` base,
 * the training loop, datasets (MNIST, image folders) and image output.
 */
export { DiffusionPipeline, type PipelineFromPretrainedOptions, type PipelineSaveOptions } from './pipelines/diffusion-pipeline.js';
export { UnconditionalPipeline, type UnconditionalComponents } from './pipelines/unconditional.js';
export {
  ClassConditionalPipeline,
  DEFAULT_CLASS_GUIDANCE,
  type ClassConditionalComponents,
  type ClassConditionalGenerateOptions,
} from './pipelines/class-conditional.js';
export { hasClassEmbedding, loadUNet2DPipeline, type UNet2DPipeline } from './pipelines/unet-pipeline.js';
export { ConditionedPipeline, type ConditionedComponents, type ConditionedGenerateOptions } from './pipelines/conditioned.js';
export { Img2ImgPipeline, type Img2ImgComponents, type Img2ImgGenerateOptions } from './pipelines/img2img.js';
export {
  modelLoader,
  type ComponentLoader,
  type ComponentLoaders,
  type ComponentLoadOptions,
  type ComponentSaveOptions,
  type PipelineComponent,
} from './pipelines/component-loader.js';
export { COMPONENT_LOADERS } from './pipelines/component-registry.js';
export { type ComponentSpec, type ComponentSpecs } from './pipelines/pipeline-folder.js';
export { SCHEDULER_COMPONENT } from './pipelines/scheduler-component.js';
export { denoiseLoop, guide, runDenoisingLoop, type DenoiseLoopOptions, type DenoiseStep } from './pipelines/denoise-loop.js';
export { StableDiffusionPipeline, type TextToImageOptions } from './stable-diffusion/stable-diffusion.js';
export { StableDiffusionImg2ImgPipeline, type Img2ImgOptions } from './stable-diffusion/stable-diffusion-img2img.js';
export { StableDiffusionInpaintPipeline, type InpaintOptions } from './stable-diffusion/stable-diffusion-inpaint.js';
export {
  StableDiffusionPipelineBase,
  type GenerateSettings,
  type StableDiffusionGenerateOptions,
  type StableDiffusionOutput,
  type StableDiffusionOutputType,
  type StableDiffusionFromPretrainedOptions,
} from './stable-diffusion/stable-diffusion-base.js';
export { type PipelineTask, type PromptEncoder, type StableDiffusionComponents } from './stable-diffusion/components.js';
export { type PromptOptions } from './stable-diffusion/encode-prompt.js';
export {
  ClipTokenizerComponent,
  clipTokenizerLoaders,
  TOKENIZER_LOADERS,
  TOKENIZERS_PACKAGE,
  type ClipTokenizerClass,
  type PromptTokenizer,
} from './stable-diffusion/prompt-tokenizer.js';
export { classifierFreeGuidance } from './stable-diffusion/guidance.js';
export {
  estimateUNetActivationBytes,
  estimateVaeDecodeBytes,
  MEMORY_HEADROOM_BYTES,
  MemoryPlanError,
  planMemory,
  type MemoryPlan,
  type MemoryPlanRow,
  type Residency,
} from './stable-diffusion/memory-plan.js';
export {
  planGeneration,
  startNoise,
  type GenerateOptions,
  type GenerateResult,
  type GenerationPlan,
  type PlannedModelCall,
  type StepCallback,
} from './pipelines/generate-options.js';
export {
  loadMnist,
  mnistDataFolder,
  mnistFromIdx,
  parseIdxImages,
  parseIdxLabels,
  type ImageDataset,
  type LoadMnistOptions,
  type MnistSplit,
} from './data/mnist.js';
export { BatchIterator, type Batch, type BatchIteratorOptions, type BatchIteratorState } from './data/dataset.js';
export {
  decodeImage,
  loadImageFolder,
  type DecodedImage,
  type DecodeImageOptions,
  type LoadImageFolderOptions,
} from './data/image-folder.js';
/** Image dimensions from a PNG or JPEG header, and the default pixel cap of the image readers (64 megapixels). */
export { DEFAULT_MAX_PIXELS, readImageDimensions } from './data/image-header.js';
export { encodeImagePng, imageGrid, saveImageGrid, scaleImage, tensorToImages, writePng, type Image8 } from './images.js';
/** Core's AdamW and its options (learning-rate warm-up and decay), for the Trainer's `optimizer`. */
export { AdamW, type AdamWOptions, type LearningRateSchedule } from '@diffusion-ts/core';
export { ExponentialMovingAverage, type EmaOptions } from './trainer/ema.js';
export { CHECKPOINT_NAME, readCheckpoint, writeCheckpoint, type VariableGroups } from './trainer/checkpoint.js';
export { assertBackendCanTrain } from './trainer/can-train.js';
export { Trainer, type TrainableModel, type TrainerOptions, type TrainingLogEntry, type TrainOptions } from './trainer/trainer.js';
export { CLI_BACKENDS, initFastBackend, type CliBackend, type FastBackendReport } from './backend.js';
