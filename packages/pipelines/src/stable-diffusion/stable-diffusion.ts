/**
 * Text-to-image with a Stable Diffusion folder (Diffusers' `StableDiffusionPipeline`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PretrainedSource } from '@diffusion-ts/core';
import type { StableDiffusionComponents } from './components.js';
import { classifierFreeGuidance } from './guidance.js';
import {
  StableDiffusionPipelineBase,
  type StableDiffusionGenerateOptions,
  type StableDiffusionOutput,
  type StableDiffusionPipelineOptions,
} from './stable-diffusion-base.js';
import type { StableDiffusionFromPretrainedOptions } from './stable-diffusion-folder.js';

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
  readonly pipelineClass = 'StableDiffusionPipeline';
  protected readonly task = 'text-to-image';

  constructor(components: StableDiffusionComponents, options: StableDiffusionPipelineOptions = {}) {
    super(components, 'text-to-image', 'StableDiffusionPipeline', options);
  }

  /**
   * Loads a Diffusers folder (local path or http(s) URL; `variant: 'fp16'` for fp16 weight files):
   * checks `model_index.json`, the components' fit and the memory plan before reading any weights.
   */
  static async fromPretrained(source: string | PretrainedSource, options: StableDiffusionFromPretrainedOptions = {}): Promise<StableDiffusionPipeline> {
    return StableDiffusionPipelineBase.loadPipeline(StableDiffusionPipeline, 'text-to-image', source, options, 'StableDiffusionPipeline.fromPretrained');
  }

  /** Generates images from prompts; every input is checked before the first step. */
  async generate(options: TextToImageOptions): Promise<StableDiffusionOutput> {
    const context = 'StableDiffusionPipeline.generate';
    const settings = await this.readSettings(options, context);
    this.checkLatents(options.latents, settings, context);
    const { guidance, guidanceScale, generator } = settings;
    const rescale = options.guidanceRescale ?? 0;
    const states = await this.encodePromptStates(options, settings, context);
    try {
      this.scheduler.setTimesteps(settings.numInferenceSteps);
      const timesteps = [...this.scheduler.timesteps];
      await this.enterStage('unet');
      const final = await this.denoise(this.startLatents(options.latents, settings, context), async (state) => {
        for (const [index, t] of timesteps.entries()) {
          options.signal?.throwIfAborted();
          state.latents = StableDiffusionPipelineBase.advance(state.latents, (latents) => {
            const input = this.scheduler.scaleModelInput(guidance ? tf.concat([latents, latents]) : latents, t) as tf.Tensor4D;
            const output = this.unet.predict(input, t, { encoderHiddenStates: states });
            const noise = guidance ? classifierFreeGuidance(output, guidanceScale, rescale) : output;
            return this.scheduler.step(noise, t, latents, { generator, eta: options.eta }).prevSample as tf.Tensor4D;
          });
          await options.onStep?.(index, t, state.latents);
        }
        options.signal?.throwIfAborted();
      });
      return await this.finish(final, options.outputType ?? 'tensor', settings);
    } finally {
      states.dispose();
    }
  }
}
