/**
 * Inpainting with a Stable Diffusion folder (Diffusers' `StableDiffusionInpaintPipeline`): the
 * 9-channel inpainting UNet sees the mask and the masked image's latents next to the noisy latents;
 * an ordinary 4-channel UNet denoises freely and, after each step, the latents outside the mask
 * are replaced by the image's latents noised to the next timestep (the masked-latent blend).
 */
import * as tf from '@tensorflow/tfjs-core';
import { randn } from '@diffusion-ts/core';
import { classifierFreeGuidance } from './guidance.js';
import { binarizeMask, maskToLatentSize, normalizeImage } from './sd-images.js';
import { StableDiffusionPipelineBase, type StableDiffusionGenerateOptions, type StableDiffusionOutput } from './stable-diffusion-base.js';
import { checkStrength, timestepsForStrength } from './strength.js';

/** Options of `StableDiffusionInpaintPipeline.generate`. */
export interface InpaintOptions extends StableDiffusionGenerateOptions {
  /** The images [1 or B, H, W, 3] (NHWC) in [0, 1]; H and W (multiples of 8) give the output size. */
  image: tf.Tensor4D;
  /** Where to paint [1 or B, H, W, 1] in [0, 1]: values >= 0.5 are repainted, the rest kept. */
  maskImage: tf.Tensor4D;
  /** How far into the schedule to start, in [0, 1] (default 1: from pure noise). */
  strength?: number;
  /** Start latents [B, H / f, W / f, C] (NHWC): the noise, started from times `initNoiseSigma` whatever the strength (as Diffusers). */
  latents?: tf.Tensor4D;
}

/** Diffusers' `StableDiffusionInpaintPipeline`, for 9-channel inpainting UNets and ordinary 4-channel ones. */
export class StableDiffusionInpaintPipeline extends StableDiffusionPipelineBase {
  static override readonly task = 'inpaint' as const;

  protected override get diffusersClassName(): string {
    return 'StableDiffusionInpaintPipeline';
  }

  /** Whether the UNet is an inpainting UNet (latents, mask and masked-image latents: 2 x latent + 1 channels). */
  get inpaintingUNet(): boolean {
    return this.unet.config.inChannels !== this.vae.config.latentChannels;
  }

  /** Repaints the masked part of images; every input is checked before the first step. */
  async generate(options: InpaintOptions): Promise<StableDiffusionOutput> {
    const context = 'StableDiffusionInpaintPipeline.generate';
    const { image, maskImage } = options;
    if (!(image instanceof tf.Tensor) || image.rank !== 4) throw new TypeError(`${context}: image must be a [B, H, W, 3] tensor in [0, 1]`);
    if (!(maskImage instanceof tf.Tensor) || maskImage.rank !== 4)
      throw new TypeError(`${context}: maskImage must be a [B, H, W, 1] tensor in [0, 1]`);
    const strength = options.strength ?? 1;
    checkStrength(strength, context);
    const settings = this.readSettings(
      { ...options, height: options.height ?? image.shape[1], width: options.width ?? image.shape[2] },
      context,
    );
    const { guidance, guidanceScale, generator, batch } = settings;
    this.checkLatents(options.latents, settings, context);
    for (const [name, tensor] of [
      ['image', image],
      ['maskImage', maskImage],
    ] as const) {
      if (batch % tensor.shape[0] !== 0)
        throw new RangeError(`${context}: ${tensor.shape[0]} ${name}s cannot be repeated to ${batch} (prompts x numImagesPerPrompt)`);
    }
    const blend = !this.inpaintingUNet;
    const held: tf.Tensor[] = [];
    const hold = <T extends tf.Tensor>(tensor: T): T => (held.push(tensor), tensor);
    // Repeats a batch to `batch` rows, taking ownership of `x`.
    const repeat = (x: tf.Tensor4D): tf.Tensor4D => {
      if (x.shape[0] === batch) return x;
      const tiled = tf.tile(x, [batch / x.shape[0], 1, 1, 1]);
      x.dispose();
      return tiled;
    };
    try {
      const pixels = hold(normalizeImage(image, settings.height, settings.width, this.vae.config.inChannels, context));
      const mask = hold(binarizeMask(maskImage, settings.height, settings.width, context));
      this.scheduler.setTimesteps(settings.numInferenceSteps);
      const timesteps = timestepsForStrength(this.scheduler, settings.numInferenceSteps, strength, context);
      const fromNoise = strength === 1;
      const states = hold(await this.encodePromptStates(options, settings, context));
      // Diffusers' draw order: the image's posterior sample, the start noise, the masked image's sample.
      const encodeImage = blend || (options.latents === undefined && !fromNoise);
      const imageLatents = encodeImage ? hold(repeat(await this.encodeImages(pixels, generator))) : undefined;
      const noise = hold(
        options.latents === undefined
          ? (randn([batch, settings.latentHeight, settings.latentWidth, this.vae.config.latentChannels], generator) as tf.Tensor4D)
          : tf.clone(options.latents),
      );
      const start = tf.tidy(() =>
        options.latents === undefined && !fromNoise
          ? (this.scheduler.addNoise(imageLatents!, noise, timesteps[0]) as tf.Tensor4D)
          : (tf.mul(noise, this.scheduler.initNoiseSigma) as tf.Tensor4D),
      );
      const maskedPixels = hold(tf.tidy(() => tf.mul(pixels, tf.cast(tf.less(mask, 0.5), 'float32')) as tf.Tensor4D));
      const maskedLatents = hold(repeat(await this.encodeImages(maskedPixels, generator)));
      const latentMask = hold(repeat(maskToLatentSize(mask, this.vaeScaleFactor)));
      const doubled = (x: tf.Tensor4D): tf.Tensor4D => (guidance ? tf.concat([x, x]) : x);
      await this.enterStage('unet');
      let index = 0;
      const latents = await this.denoise(start, timesteps, options, (x, t) => {
        let input = this.scheduler.scaleModelInput(doubled(x), t) as tf.Tensor4D;
        if (!blend) input = tf.concat([input, doubled(latentMask), doubled(maskedLatents)], 3);
        const output = this.unet.predict(input, t, { encoderHiddenStates: states });
        const noisePred = guidance ? classifierFreeGuidance(output, guidanceScale, options.guidanceRescale) : output;
        const next = this.scheduler.step(noisePred, t, x, { generator, eta: options.eta }).prevSample as tf.Tensor4D;
        index += 1;
        if (!blend) return next;
        // Outside the mask: the image's latents, noised to the next timestep (un-noised after the last).
        const known =
          index < timesteps.length ? (this.scheduler.addNoise(imageLatents!, noise, timesteps[index]) as tf.Tensor4D) : imageLatents!;
        return tf.add(tf.mul(tf.sub(1, latentMask), known), tf.mul(latentMask, next));
      });
      return await this.finish(latents, options.outputType ?? 'tensor', settings);
    } finally {
      tf.dispose(held);
    }
  }
}
