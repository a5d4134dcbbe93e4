/**
 * Image-to-image (SDEdit): noise a given image to the timestep `strength` of the way into the
 * schedule with `scheduler.addNoise`, then denoise from there.
 */
import * as tf from '@tensorflow/tfjs-core';
import { randn } from '@diffusion-ts/core';
import type { UNet2DModel } from '@diffusion-ts/models';
import type { Scheduler } from '@diffusion-ts/schedulers';
import { denoiseWith } from './denoise-loop.js';
import { prepareTimesteps, readGenerateOptions, type GenerateOptions, type GenerateResult } from './generate-options.js';
import { checkStepWork } from './work-size.js';

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

/** Transforms images with an unconditional UNet. */
export class Img2ImgPipeline {
  readonly unet: UNet2DModel;
  scheduler: Scheduler;

  constructor({ unet, scheduler }: Img2ImgComponents) {
    this.unet = unet;
    this.scheduler = scheduler;
  }

  /** The timesteps `strength` keeps of `numInferenceSteps` (the tail of the schedule). */
  timestepsFor(numInferenceSteps: number, strength: number): number[] {
    const all = prepareTimesteps(this.scheduler, numInferenceSteps, 'Img2ImgPipeline');
    const kept = Math.min(Math.floor(numInferenceSteps * strength), numInferenceSteps);
    return all.slice(Math.max(numInferenceSteps - kept, 0) * this.scheduler.order);
  }

  /** Generates from noised versions of `image`. */
  async generate(options: Img2ImgGenerateOptions): Promise<GenerateResult> {
    const context = 'Img2ImgPipeline.generate';
    const { image } = options;
    if (image === undefined || image.rank !== 4) throw new Error(`${context}: image must be a [B, H, W, C] tensor`);
    if (image.shape[3] !== this.unet.config.inChannels) {
      throw new RangeError(`${context}: image has ${image.shape[3]} channels, the UNet expects ${this.unet.config.inChannels}`);
    }
    if (this.scheduler.className === 'PNDMScheduler') {
      throw new Error(`${context}: PNDMScheduler cannot start mid-schedule (its steps depend on the earlier ones); use DDIM or DDPM`);
    }
    const strength = options.strength ?? 0.8;
    if (!(Number.isFinite(strength) && strength > 0 && strength <= 1)) throw new RangeError(`${context}: strength must lie in (0, 1], got ${String(strength)}`);
    const batchSize = options.batchSize ?? image.shape[0];
    if (image.shape[0] !== 1 && image.shape[0] !== batchSize) {
      throw new RangeError(`${context}: ${image.shape[0]} images for a batch of ${batchSize}`);
    }
    const { numInferenceSteps, generator } = readGenerateOptions({ ...options, batchSize }, context);
    const [, height, width, channels] = image.shape;
    checkStepWork(this.unet, { batchSize, modelBatch: batchSize, height, width, channels }, context);
    const timesteps = this.timestepsFor(numInferenceSteps, strength);
    if (timesteps.length === 0) {
      throw new RangeError(`${context}: strength ${strength} with ${numInferenceSteps} steps leaves no step to run; raise either`);
    }
    const start = tf.tidy(() => {
      const batch = tf.broadcastTo(image, [batchSize, height, width, channels]);
      const noise = randn([batchSize, height, width, channels], generator);
      return this.scheduler.addNoise(batch, noise, timesteps[0]) as tf.Tensor4D;
    });
    const predict = (sample: tf.Tensor4D, timestep: number): tf.Tensor4D => this.unet.predict(sample, timestep);
    return { images: await denoiseWith(options, { scheduler: this.scheduler, start, timesteps, predict, generator }) };
  }
}
