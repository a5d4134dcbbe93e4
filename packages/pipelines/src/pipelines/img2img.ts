/**
 * Image-to-image (SDEdit): noise a given image to the timestep `strength` of the way into the
 * schedule with `scheduler.addNoise`, then denoise from there.
 */
import * as tf from '@tensorflow/tfjs-core';
import { randn } from '@diffusion-ts/core';
import type { UNet2DModel } from '@diffusion-ts/models';
import type { Scheduler } from '@diffusion-ts/schedulers';
import { runDenoisingLoop } from './denoise-loop.js';
import { DiffusionPipeline } from './diffusion-pipeline.js';
import { planGeneration, type GenerateOptions, type GenerateResult } from './generate-options.js';
import type { ComponentSpecs } from './pipeline-folder.js';
import { SCHEDULER_COMPONENT } from './scheduler-component.js';

/** Components of `Img2ImgPipeline`. */
export interface Img2ImgComponents {
  unet: UNet2DModel;
  scheduler: Scheduler;
}

/** Options of `Img2ImgPipeline.generate`. */
export interface Img2ImgGenerateOptions extends GenerateOptions {
  /** The start images [B, H, W, C] in [-1, 1] (one image broadcasts to `batchSize`). */
  image: tf.Tensor4D;
  /** How much to change, in (0, 1]: 1 starts from pure noise, small values stay close (default 0.8). */
  strength?: number;
}

const CONTEXT = 'Img2ImgPipeline.generate';

/** Transforms images with an unconditional UNet. */
export class Img2ImgPipeline extends DiffusionPipeline<Img2ImgComponents> {
  static override readonly expectedComponents: ComponentSpecs = { scheduler: SCHEDULER_COMPONENT, unet: { classes: ['UNet2DModel'] } };
  declare readonly unet: UNet2DModel;
  declare scheduler: Scheduler;

  /** Diffusers loads the folder as a `DDPMPipeline`. */
  protected override get diffusersClassName(): string {
    return 'DDPMPipeline';
  }

  /** Sets the scheduler's timesteps; returns those `strength` keeps of `numInferenceSteps` (the tail of the schedule). */
  timestepsFor(numInferenceSteps: number, strength: number): number[] {
    this.scheduler.setTimesteps(numInferenceSteps);
    const kept = Math.min(Math.floor(numInferenceSteps * strength), numInferenceSteps);
    return this.scheduler.timesteps.slice(Math.max(numInferenceSteps - kept, 0) * this.scheduler.order);
  }

  /** Generates from noised versions of `image`. */
  async generate(options: Img2ImgGenerateOptions): Promise<GenerateResult> {
    const { image } = options;
    const { batchSize, strength } = this.checkImage(options);
    const [, height, width] = image.shape;
    const { shape, numInferenceSteps, generator, eta } = planGeneration({ ...options, batchSize, height, width }, this, CONTEXT);
    const timesteps = this.timestepsFor(numInferenceSteps, strength);
    if (timesteps.length === 0)
      throw new RangeError(`${CONTEXT}: strength ${strength} with ${numInferenceSteps} steps leaves no step to run; raise either`);
    const start = tf.tidy(
      () => this.scheduler.addNoise(tf.broadcastTo(image, shape), randn(shape, generator), timesteps[0]) as tf.Tensor4D,
    );
    const images = await runDenoisingLoop(start, timesteps, options, (sample, t) => {
      const input = this.scheduler.scaleModelInput(sample, t) as tf.Tensor4D;
      const noisePred = this.unet.predict(input, t);
      return this.scheduler.step(noisePred, t, sample, { generator, eta }).prevSample;
    });
    return { images };
  }

  /** Checks the image, the scheduler and `strength`; returns the batch size and the strength. */
  private checkImage(options: Img2ImgGenerateOptions): { batchSize: number; strength: number } {
    const { image } = options;
    if (image === undefined || image.rank !== 4) throw new Error(`${CONTEXT}: image must be a [B, H, W, C] tensor`);
    if (image.shape[3] !== this.unet.config.inChannels) {
      throw new RangeError(`${CONTEXT}: image has ${image.shape[3]} channels, the UNet expects ${this.unet.config.inChannels}`);
    }
    if (this.scheduler.className === 'PNDMScheduler') {
      throw new Error(`${CONTEXT}: PNDMScheduler cannot start mid-schedule (its steps depend on the earlier ones); use DDIM or DDPM`);
    }
    const strength = options.strength ?? 0.8;
    if (!(Number.isFinite(strength) && strength > 0 && strength <= 1))
      throw new RangeError(`${CONTEXT}: strength must lie in (0, 1], got ${String(strength)}`);
    const batchSize = options.batchSize ?? image.shape[0];
    if (image.shape[0] !== 1 && image.shape[0] !== batchSize) {
      throw new RangeError(`${CONTEXT}: ${image.shape[0]} images for a batch of ${batchSize}`);
    }
    return { batchSize, strength };
  }
}
