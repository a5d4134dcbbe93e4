/**
 * Class-conditional generation from a `UNet2DModel` with a class embedding, with classifier-free
 * guidance: the batch is run twice per step, once with the requested classes and once with the
 * null class (the extra embedding a CFG-trained model learns for "no class").
 */
import * as tf from '@tensorflow/tfjs-core';
import { UNet2DModel } from '@diffusion-ts/models';
import type { Scheduler } from '@diffusion-ts/schedulers';
import { generateFromNoise, guidedPredict } from './denoise-loop.js';
import type { GenerateOptions, GenerateResult } from './generate-options.js';
import { openPipelineFolder, writePipelineFolder, type PipelineFromPretrainedOptions } from './pipeline-folder.js';

/** Components of `ClassConditionalPipeline`. */
export interface ClassConditionalComponents {
  unet: UNet2DModel;
  scheduler: Scheduler;
  /** The class id meaning "unconditional" (default: the last embedding, numClassEmbeds - 1). */
  nullClass?: number;
}

/** Options of `ClassConditionalPipeline.generate`. */
export interface ClassConditionalGenerateOptions extends GenerateOptions {
  /** One class id per image (its length sets the batch size). */
  classLabels: readonly number[] | Int32Array;
}

/** Samples images of given classes, optionally with classifier-free guidance. */
export class ClassConditionalPipeline {
  readonly unet: UNet2DModel;
  scheduler: Scheduler;
  readonly nullClass: number;

  constructor({ unet, scheduler, nullClass }: ClassConditionalComponents) {
    const classes = unet.config.numClassEmbeds;
    if (classes === null && unet.config.classEmbedType === null) {
      throw new Error('ClassConditionalPipeline: the UNet has no class embedding (num_class_embeds / class_embed_type)');
    }
    this.unet = unet;
    this.scheduler = scheduler;
    this.nullClass = nullClass ?? (classes === null ? 0 : classes - 1);
  }

  /** Loads a Diffusers pipeline folder (see `UnconditionalPipeline.fromPretrained`). */
  static async fromPretrained(folder: string, options: PipelineFromPretrainedOptions & { nullClass?: number } = {}): Promise<ClassConditionalPipeline> {
    const { source, scheduler } = await openPipelineFolder(folder, options);
    const unet = await UNet2DModel.fromPretrained(source.subfolder('unet'), { onWarning: options.onWarning, budget: options.budget });
    return new ClassConditionalPipeline({ unet, scheduler, nullClass: options.nullClass });
  }

  /** Writes the pipeline in Diffusers' layout. */
  async save(folder: string): Promise<void> {
    await this.unet.save(await writePipelineFolder(folder, 'DDPMPipeline', 'UNet2DModel', this.scheduler));
  }

  /** Generates one image per class label; `guidanceScale` > 1 turns on classifier-free guidance. */
  async generate(options: ClassConditionalGenerateOptions): Promise<GenerateResult> {
    const context = 'ClassConditionalPipeline.generate';
    if (options.classLabels === undefined || options.classLabels.length === 0) throw new Error(`${context}: classLabels are required`);
    const limit = this.unet.config.numClassEmbeds;
    for (const label of options.classLabels) {
      if (!Number.isInteger(label) || label < 0 || (limit !== null && label >= limit)) {
        throw new RangeError(`${context}: class label ${String(label)} is not an integer in [0, ${limit ?? '∞'})`);
      }
    }
    const batchSize = options.classLabels.length;
    if (options.batchSize !== undefined && options.batchSize !== batchSize) {
      throw new RangeError(`${context}: batchSize ${options.batchSize} does not match the ${batchSize} class labels`);
    }
    const labels = Array.from(options.classLabels);
    return generateFromNoise(this, { ...options, batchSize }, context, (guidanceScale) => {
      // With guidance the batch runs twice: the requested classes, then the null class.
      const classLabels = tf.tensor1d(guidanceScale !== 1 ? [...labels, ...labels.map(() => this.nullClass)] : labels, 'int32');
      return { predict: guidedPredict(this.unet, { classLabels }, guidanceScale), dispose: () => classLabels.dispose() };
    });
  }

  /** Frees the UNet's weights and the scheduler's state. */
  dispose(): void {
    this.unet.dispose();
    this.scheduler.dispose();
  }
}
