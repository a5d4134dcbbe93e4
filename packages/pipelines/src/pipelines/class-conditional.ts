/**
 * Class-conditional generation from a `UNet2DModel` with a class embedding, with classifier-free
 * guidance: the batch is run twice per step, once with the requested classes and once with the
 * null class (the extra embedding a CFG-trained model learns for "no class").
 */
import * as tf from '@tensorflow/tfjs-core';
import type { UNet2DModel } from '@diffusion-ts/models';
import type { Scheduler } from '@diffusion-ts/schedulers';
import { guide, runDenoisingLoop } from './denoise-loop.js';
import { DiffusionPipeline } from './diffusion-pipeline.js';
import { planGeneration, startNoise, type GenerateOptions, type GenerateResult } from './generate-options.js';
import type { ComponentSpecs } from './pipeline-folder.js';
import { SCHEDULER_COMPONENT } from './scheduler-component.js';

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

const CONTEXT = 'ClassConditionalPipeline.generate';

/** The guidance scale the CLI and the demo use for class-conditional folders (chosen on the shipped MNIST model; see its model card). */
export const DEFAULT_CLASS_GUIDANCE = 1.35;

/** Samples images of given classes, optionally with classifier-free guidance. */
export class ClassConditionalPipeline extends DiffusionPipeline<ClassConditionalComponents> {
  static override readonly expectedComponents: ComponentSpecs = { scheduler: SCHEDULER_COMPONENT, unet: { classes: ['UNet2DModel'] } };
  declare readonly unet: UNet2DModel;
  declare scheduler: Scheduler;
  declare readonly nullClass: number;

  constructor({ unet, scheduler, nullClass }: ClassConditionalComponents) {
    const classes = unet.config.numClassEmbeds;
    if (classes === null && unet.config.classEmbedType === null) {
      throw new Error('ClassConditionalPipeline: the UNet has no class embedding (num_class_embeds / class_embed_type)');
    }
    super({ unet, scheduler, nullClass: nullClass ?? (classes === null ? 0 : classes - 1) });
  }

  /** The classes one can ask for: the class embeddings less the null class when it is the last one (0 without a class table, e.g. `class_embed_type: "timestep"`). */
  get classCount(): number {
    const embeds = this.unet.config.numClassEmbeds;
    if (embeds === null) return 0;
    return this.nullClass === embeds - 1 ? embeds - 1 : embeds;
  }

  /** Diffusers loads the folder as a `DDPMPipeline`. */
  protected override get diffusersClassName(): string {
    return 'DDPMPipeline';
  }

  /** Generates one image per class label; `guidanceScale` > 1 turns on classifier-free guidance. */
  async generate(options: ClassConditionalGenerateOptions): Promise<GenerateResult> {
    const labels = this.checkClassLabels(options);
    const plan = planGeneration({ ...options, batchSize: labels.length }, this, CONTEXT, { guided: true });
    const { shape, numInferenceSteps, generator, eta, guidanceScale } = plan;
    const guided = guidanceScale !== 1;
    // With guidance the batch runs twice: the requested classes, then the null class.
    const classLabels = tf.tensor1d(guided ? [...labels, ...labels.map(() => this.nullClass)] : labels, 'int32');
    try {
      this.scheduler.setTimesteps(numInferenceSteps);
      const noise = startNoise(shape, this.scheduler, generator);
      const images = await runDenoisingLoop(noise, this.scheduler.timesteps, options, (sample, t) => {
        const input = this.scheduler.scaleModelInput(sample, t) as tf.Tensor4D;
        const output = this.unet.predict(guided ? tf.concat([input, input]) : input, t, { classLabels });
        const noisePred = guided ? guide(output, guidanceScale) : output;
        return this.scheduler.step(noisePred, t, sample, { generator, eta }).prevSample;
      });
      return { images };
    } finally {
      classLabels.dispose();
    }
  }

  /** The labels as an array, each an integer class id; their count must match `batchSize` if given. */
  private checkClassLabels(options: ClassConditionalGenerateOptions): number[] {
    if (options.classLabels === undefined || options.classLabels.length === 0) throw new Error(`${CONTEXT}: classLabels are required`);
    const limit = this.unet.config.numClassEmbeds;
    for (const label of options.classLabels) {
      if (!Number.isInteger(label) || label < 0 || (limit !== null && label >= limit)) {
        throw new RangeError(`${CONTEXT}: class label ${String(label)} is not an integer in [0, ${limit ?? '∞'})`);
      }
    }
    const batchSize = options.classLabels.length;
    if (options.batchSize !== undefined && options.batchSize !== batchSize) {
      throw new RangeError(`${CONTEXT}: batchSize ${options.batchSize} does not match the ${batchSize} class labels`);
    }
    return Array.from(options.classLabels);
  }
}
