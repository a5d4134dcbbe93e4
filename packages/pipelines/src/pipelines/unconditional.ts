/**
 * Unconditional generation (Diffusers' DDPMPipeline / DDIMPipeline / PNDMPipeline in one): the
 * scheduler decides the sampler.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { UNet2DModel } from '@diffusion-ts/models';
import type { Scheduler } from '@diffusion-ts/schedulers';
import { runDenoisingLoop } from './denoise-loop.js';
import { DiffusionPipeline } from './diffusion-pipeline.js';
import { planGeneration, startNoise, type GenerateOptions, type GenerateResult } from './generate-options.js';
import type { ComponentSpecs } from './pipeline-folder.js';
import { SCHEDULER_COMPONENT } from './scheduler-component.js';

/** Components of `UnconditionalPipeline`. */
export interface UnconditionalComponents {
  unet: UNet2DModel;
  scheduler: Scheduler;
}

const CONTEXT = 'UnconditionalPipeline.generate';

/** Samples images from an unconditional `UNet2DModel` with any scheduler. */
export class UnconditionalPipeline extends DiffusionPipeline<UnconditionalComponents> {
  static override readonly expectedComponents: ComponentSpecs = { scheduler: SCHEDULER_COMPONENT, unet: { classes: ['UNet2DModel'] } };
  declare readonly unet: UNet2DModel;
  declare scheduler: Scheduler;

  /** Diffusers' pipeline for the scheduler: `DDIMPipeline`, `PNDMPipeline`, else `DDPMPipeline`. */
  protected override get diffusersClassName(): string {
    const name = this.scheduler.className;
    return name === 'DDIMScheduler' ? 'DDIMPipeline' : name === 'PNDMScheduler' ? 'PNDMPipeline' : 'DDPMPipeline';
  }

  /** Generates `batchSize` images [B, H, W, C]. */
  async generate(options: GenerateOptions = {}): Promise<GenerateResult> {
    const { shape, numInferenceSteps, generator, eta } = planGeneration(options, this, CONTEXT);
    this.scheduler.setTimesteps(numInferenceSteps);
    const noise = startNoise(shape, this.scheduler, generator);
    const images = await runDenoisingLoop(noise, this.scheduler.timesteps, options, (sample, t) => {
      const input = this.scheduler.scaleModelInput(sample, t) as tf.Tensor4D;
      const noisePred = this.unet.predict(input, t);
      return this.scheduler.step(noisePred, t, sample, { generator, eta }).prevSample;
    });
    return { images };
  }
}
