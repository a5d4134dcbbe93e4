/**
 * Image-to-image with a Stable Diffusion folder (Diffusers' `StableDiffusionImg2ImgPipeline`):
 * the VAE encodes the image, noise takes it `strength` of the way into the schedule, and the
 * guided loop denoises from there.
 */
import * as tf from '@tensorflow/tfjs-core';
import { randn } from '@diffusion-ts/core';
import { classifierFreeGuidance } from './guidance.js';
import { normalizeImage } from './sd-images.js';
import { StableDiffusionPipelineBase, type StableDiffusionGenerateOptions, type StableDiffusionOutput } from './stable-diffusion-base.js';
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
  static override readonly task = 'img2img' as const;

  protected override get diffusersClassName(): string {
    return 'StableDiffusionImg2ImgPipeline';
  }

  /** Transforms images toward prompts; every input is checked before the first step. */
  async generate(options: Img2ImgOptions): Promise<StableDiffusionOutput> {
    const context = 'StableDiffusionImg2ImgPipeline.generate';
    const { image } = options;
    if (!(image instanceof tf.Tensor) || image.rank !== 4) throw new TypeError(`${context}: image must be a [B, H, W, 3] tensor in [0, 1]`);
    const strength = options.strength ?? 0.8;
    checkStrength(strength, context);
    const settings = this.readSettings(
      { ...options, height: options.height ?? image.shape[1], width: options.width ?? image.shape[2] },
      context,
    );
    const { guidance, guidanceScale, generator, batch } = settings;
    if (batch % image.shape[0] !== 0)
      throw new RangeError(`${context}: ${image.shape[0]} images cannot be repeated to ${batch} (prompts x numImagesPerPrompt)`);
    const pixels = normalizeImage(image, settings.height, settings.width, this.vae.config.inChannels, context);
    try {
      this.scheduler.setTimesteps(settings.numInferenceSteps);
      const timesteps = timestepsForStrength(this.scheduler, settings.numInferenceSteps, strength, context);
      const states = await this.encodePromptStates(options, settings, context);
      try {
        // The image's latents (a posterior sample), repeated to the batch, noised to the first kept timestep.
        const imageLatents = await this.encodeImages(pixels, generator);
        const start = tf.tidy(() => {
          const repeated = tf.tile(imageLatents, [batch / image.shape[0], 1, 1, 1]);
          return this.scheduler.addNoise(repeated, randn(repeated.shape, generator), timesteps[0]) as tf.Tensor4D;
        });
        imageLatents.dispose();
        await this.enterStage('unet');
        const latents = await this.denoise(start, timesteps, options, (x, t) => {
          const input = this.scheduler.scaleModelInput(guidance ? tf.concat([x, x]) : x, t) as tf.Tensor4D;
          const output = this.unet.predict(input, t, { encoderHiddenStates: states });
          const noise = guidance ? classifierFreeGuidance(output, guidanceScale, options.guidanceRescale) : output;
          return this.scheduler.step(noise, t, x, { generator, eta: options.eta }).prevSample;
        });
        return await this.finish(latents, options.outputType ?? 'tensor', settings);
      } finally {
        states.dispose();
      }
    } finally {
      pixels.dispose();
    }
  }
}
