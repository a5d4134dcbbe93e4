/**
 * Text-to-image with a Stable Diffusion folder (Diffusers' `StableDiffusionPipeline`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { classifierFreeGuidance } from './guidance.js';
import { StableDiffusionPipelineBase, type StableDiffusionGenerateOptions, type StableDiffusionOutput } from './stable-diffusion-base.js';

/** Options of `StableDiffusionPipeline.generate`. */
export interface TextToImageOptions extends StableDiffusionGenerateOptions {
  /** Start latents [B, H / f, W / f, C] (NHWC, Diffusers' `latents=`) instead of drawing them; multiplied by `initNoiseSigma`. */
  latents?: tf.Tensor4D;
}

/**
 * Diffusers' `StableDiffusionPipeline`: prompts through the CLIP text encoder, a loop of guided
 * UNet predictions and scheduler steps on latents, the VAE's decode. Any scheduler of
 * `@diffusion-ts/schedulers` can be assigned to `scheduler`.
 */
export class StableDiffusionPipeline extends StableDiffusionPipelineBase {
  static override readonly task = 'text-to-image' as const;

  protected override get diffusersClassName(): string {
    return 'StableDiffusionPipeline';
  }

  /** Generates images from prompts; every input is checked before the first step. */
  async generate(options: TextToImageOptions): Promise<StableDiffusionOutput> {
    const context = 'StableDiffusionPipeline.generate';
    const settings = this.readSettings(options, context);
    this.checkLatents(options.latents, settings, context);
    const { guidance, guidanceScale, generator } = settings;
    const states = await this.encodePromptStates(options, settings, context);
    try {
      this.scheduler.setTimesteps(settings.numInferenceSteps);
      const start = this.startLatents(options.latents, settings);
      await this.enterStage('unet');
      const latents = await this.denoise(start, this.scheduler.timesteps, options, (x, t) => {
        const input = this.scheduler.scaleModelInput(guidance ? tf.concat([x, x]) : x, t) as tf.Tensor4D;
        const output = this.unet.predict(input, t, { encoderHiddenStates: states });
        const noise = guidance ? classifierFreeGuidance(output, guidanceScale, options.guidanceRescale) : output;
        return this.scheduler.step(noise, t, x, { generator, eta: options.eta }).prevSample;
      });
      return await this.finish(latents, options.outputType ?? 'tensor', settings);
    } finally {
      states.dispose();
    }
  }
}
