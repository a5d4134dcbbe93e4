/**
 * Unconditional generation (Diffusers' DDPMPipeline / DDIMPipeline / PNDMPipeline in one): the
 * scheduler decides the sampler.
 */
import type { UNet2DModel } from '@diffusion-ts/models';
import { UNet2DModel as UNet2DModelClass } from '@diffusion-ts/models';
import type { Scheduler } from '@diffusion-ts/schedulers';
import { generateFromNoise } from './denoise-loop.js';
import type { GenerateOptions, GenerateResult } from './generate-options.js';
import { openPipelineFolder, writePipelineFolder, type PipelineFromPretrainedOptions } from './pipeline-folder.js';

/** Components of `UnconditionalPipeline`. */
export interface UnconditionalComponents {
  unet: UNet2DModel;
  scheduler: Scheduler;
}

/** Samples images from an unconditional `UNet2DModel` with any scheduler. */
export class UnconditionalPipeline {
  readonly unet: UNet2DModel;
  scheduler: Scheduler;

  constructor({ unet, scheduler }: UnconditionalComponents) {
    this.unet = unet;
    this.scheduler = scheduler;
  }

  /**
   * Loads a Diffusers pipeline folder (`model_index.json`, `unet/`, `scheduler/`); the scheduler
   * comes from `scheduler_config.json`'s `_class_name` unless `options.scheduler` names another.
   */
  static async fromPretrained(folder: string, options: PipelineFromPretrainedOptions = {}): Promise<UnconditionalPipeline> {
    const { source, scheduler } = await openPipelineFolder(folder, options);
    const unet = await UNet2DModelClass.fromPretrained(source.subfolder('unet'), { onWarning: options.onWarning, budget: options.budget });
    return new UnconditionalPipeline({ unet, scheduler });
  }

  /** Writes the pipeline in Diffusers' layout (`DDPMPipeline`). */
  async save(folder: string): Promise<void> {
    const pipelineClass = this.scheduler.className === 'DDIMScheduler' ? 'DDIMPipeline' : this.scheduler.className === 'PNDMScheduler' ? 'PNDMPipeline' : 'DDPMPipeline';
    await this.unet.save(await writePipelineFolder(folder, pipelineClass, 'UNet2DModel', this.scheduler));
  }

  /** Generates `batchSize` images [B, H, W, C]. */
  async generate(options: GenerateOptions = {}): Promise<GenerateResult> {
    return generateFromNoise(this, options, 'UnconditionalPipeline.generate', () => ({ predict: (sample, timestep) => this.unet.predict(sample, timestep) }));
  }

  /** Frees the UNet's weights and the scheduler's state. */
  dispose(): void {
    this.unet.dispose();
    this.scheduler.dispose();
  }
}
