/**
 * @diffusion-ts/pipelines: generation pipelines (unconditional, class-conditional, conditioned,
 * img2img) on one `DiffusionPipeline` base, the training loop, datasets (MNIST, image folders)
 * and image output.
 */
export { DiffusionPipeline, type PipelineFromPretrainedOptions } from './pipelines/diffusion-pipeline.js';
export { UnconditionalPipeline, type UnconditionalComponents } from './pipelines/unconditional.js';
export { ClassConditionalPipeline, type ClassConditionalComponents, type ClassConditionalGenerateOptions } from './pipelines/class-conditional.js';
export { ConditionedPipeline, type ConditionedComponents, type ConditionedGenerateOptions } from './pipelines/conditioned.js';
export { Img2ImgPipeline, type Img2ImgComponents, type Img2ImgGenerateOptions } from './pipelines/img2img.js';
export { modelLoader, type ComponentLoader, type ComponentLoaders, type ComponentLoadOptions, type PipelineComponent } from './pipelines/component-loader.js';
export { COMPONENT_LOADERS } from './pipelines/component-registry.js';
export { type ComponentSpec, type ComponentSpecs } from './pipelines/pipeline-folder.js';
export { SCHEDULER_COMPONENT } from './pipelines/scheduler-component.js';
export { denoiseLoop, guide, runDenoisingLoop, type DenoiseLoopOptions, type DenoiseStep } from './pipelines/denoise-loop.js';
export {
  planGeneration,
  startNoise,
  type GenerateOptions,
  type GenerateResult,
  type GenerationPlan,
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
export { decodeImage, loadImageFolder, type DecodedImage, type LoadImageFolderOptions } from './data/image-folder.js';
export { encodeImagePng, imageGrid, saveImageGrid, scaleImage, tensorToImages, writePng, type Image8 } from './images.js';
export { AdamW, type AdamWOptions } from '@diffusion-ts/core';
export { ExponentialMovingAverage, type EmaOptions } from './trainer/ema.js';
export { CHECKPOINT_NAME, readCheckpoint, writeCheckpoint, type VariableGroups } from './trainer/checkpoint.js';
export { assertBackendCanTrain } from './trainer/can-train.js';
export { Trainer, type TrainableModel, type TrainerOptions, type TrainingLogEntry, type TrainOptions } from './trainer/trainer.js';
export { CLI_BACKENDS, initFastBackend, type CliBackend, type FastBackendReport } from './backend.js';
