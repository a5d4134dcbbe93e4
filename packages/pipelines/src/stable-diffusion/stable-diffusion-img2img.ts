/**
 * Image-to-image with a Stable Diffusion folder (Diffusers' `StableDiffusionImg2ImgPipeline`):
 * the VAE encodes the image, noise takes it `strength` of the way into the schedule, and the
 * guided loop denoises from there.
 */
import * as tf from '@tensorflow/tfjs-core';
import { randn, type PretrainedSource } from '@diffusion-ts/core';
import type { StableDiffusionComponents } from './components.js';
import { classifierFreeGuidance } from './guidance.js';
import { normalizeImage } from './sd-images.js';
import {
  StableDiffusionPipelineBase,
  type StableDiffusionGenerateOptions,
  type StableDiffusionOutput,
  type StableDiffusionPipelineOptions,
} from './stable-diffusion-base.js';
import type { StableDiffusionFromPretrainedOptions } from './stable-diffusion-folder.js';
import { checkStrength, timestepsForStrength } from './strength.js';

/** Options of `StableDiffusionImg2ImgPipeline.generate`. */
export interface Img2ImgOptions extends StableDiffusionGenerateOptions {
  /** The start images [1 or B, H, W, 3] (NHWC) in [0, 1]; H and W (multiples of 8) give the output size. */
  image: tf.Tensor4D;
  /** How much to change the image, in [0, 1]: `int(steps * strength)` steps run (default 0.8). */
  strength?: number;
}

/** Diffusers' `StableDiffusionImg2ImgPipeline`. */
export class StableDiffusionImg2ImgPipeline extends StableDiffusionPipelineBase {
  readonly pipelineClass = 'StableDiffusionImg2ImgPipeline';
  protected readonly task = 'img2img';

  constructor(components: StableDiffusionComponents, options: StableDiffusionPipelineOptions = {}) {
    super(components, 'img2img', 'StableDiffusionImg2ImgPipeline', options);
  }

  /** Loads a Diffusers folder (as `StableDiffusionPipeline.fromPretrained`). */
  static async fromPretrained(source: string | PretrainedSource, options: StableDiffusionFromPretrainedOptions = {}): Promise<StableDiffusionImg2ImgPipeline> {
    return StableDiffusionPipelineBase.loadPipeline(StableDiffusionImg2ImgPipeline, 'img2img', source, options, 'StableDiffusionImg2ImgPipeline.fromPretrained');
  }

  /** Transforms images toward prompts; every input is checked before the first step. */
  async generate(options: Img2ImgOptions): Promise<StableDiffusionOutput> {
    const context = 'StableDiffusionImg2ImgPipeline.generate';
    const { image } = options;
    if (!(image instanceof tf.Tensor) || image.rank !== 4) throw new TypeError(`${context}: image must be a [B, H, W, 3] tensor in [0, 1]`);
    const strength = options.strength ?? 0.8;
    checkStrength(strength, context);
    const settings = await this.readSettings({ ...options, height: options.height ?? image.shape[1], width: options.width ?? image.shape[2] }, context);
    const { guidance, guidanceScale, generator, batch } = settings;
    if (batch % image.shape[0] !== 0) throw new RangeError(`${context}: ${image.shape[0]} images cannot be repeated to ${batch} (prompts x numImagesPerPrompt)`);
    const normalized = normalizeImage(image, settings.height, settings.width, this.vae.config.inChannels, context);
    this.scheduler.setTimesteps(settings.numInferenceSteps);
    let timesteps: number[];
    try {
      timesteps = timestepsForStrength(this.scheduler, settings.numInferenceSteps, strength, context);
    } catch (error) {
      normalized.dispose();
      throw error;
    }
    const states = await this.encodePromptStates(options, settings, context);
    try {
      const imageLatents = await this.encodeImages(normalized, generator);
      normalized.dispose();
      const start = tf.tidy(() => {
        const repeated = tf.tile(imageLatents, [batch / image.shape[0], 1, 1, 1]);
        return this.scheduler.addNoise(repeated, randn(repeated.shape, generator), timesteps[0]) as tf.Tensor4D;
      });
      imageLatents.dispose();
      await this.enterStage('unet');
      const final = await this.denoise(start, async (state) => {
        for (const [index, t] of timesteps.entries()) {
          options.signal?.throwIfAborted();
          state.latents = StableDiffusionPipelineBase.advance(state.latents, (latents) => {
            const input = this.scheduler.scaleModelInput(guidance ? tf.concat([latents, latents]) : latents, t) as tf.Tensor4D;
            const output = this.unet.predict(input, t, { encoderHiddenStates: states });
            const noise = guidance ? classifierFreeGuidance(output, guidanceScale, options.guidanceRescale ?? 0) : output;
            return this.scheduler.step(noise, t, latents, { generator, eta: options.eta }).prevSample as tf.Tensor4D;
          });
          await options.onStep?.(index, t, state.latents);
        }
        options.signal?.throwIfAborted();
      });
      return await this.finish(final, options.outputType ?? 'tensor', settings);
    } finally {
      if (!normalized.isDisposed) normalized.dispose();
      states.dispose();
    }
  }
}
