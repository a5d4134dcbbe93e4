/**
 * Generation from a `UNet2DConditionModel` with given encoder hidden states (text or other
 * embeddings), and classifier-free guidance against negative (default: all-zero) embeddings.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UNet2DConditionModel } from '@diffusion-ts/models';
import type { Scheduler } from '@diffusion-ts/schedulers';
import { generateFromNoise, guidedPredict } from './denoise-loop.js';
import type { GenerateOptions, GenerateResult } from './generate-options.js';
import { openPipelineFolder, writePipelineFolder, type PipelineFromPretrainedOptions } from './pipeline-folder.js';

/** Components of `ConditionedPipeline`. */
export interface ConditionedComponents {
  unet: UNet2DConditionModel;
  scheduler: Scheduler;
}

/** Options of `ConditionedPipeline.generate`. */
export interface ConditionedGenerateOptions extends GenerateOptions {
  /** Conditioning [B or 1, L, D] (one row broadcasts over the batch). */
  encoderHiddenStates: tf.Tensor3D;
  /** The unconditional side of guidance (same shape); default zeros. */
  negativeEncoderHiddenStates?: tf.Tensor3D;
}

/** Samples from a cross-attention UNet given embeddings. */
export class ConditionedPipeline {
  readonly unet: UNet2DConditionModel;
  scheduler: Scheduler;

  constructor({ unet, scheduler }: ConditionedComponents) {
    this.unet = unet;
    this.scheduler = scheduler;
  }

  /** Loads a Diffusers pipeline folder whose `unet/` holds a `UNet2DConditionModel`. */
  static async fromPretrained(folder: string, options: PipelineFromPretrainedOptions = {}): Promise<ConditionedPipeline> {
    const { source, scheduler } = await openPipelineFolder(folder, options);
    const unet = await UNet2DConditionModel.fromPretrained(source.subfolder('unet'), { onWarning: options.onWarning, budget: options.budget });
    return new ConditionedPipeline({ unet, scheduler });
  }

  /** Writes the pipeline in Diffusers' layout. */
  async save(folder: string): Promise<void> {
    await this.unet.save(await writePipelineFolder(folder, 'DiffusionPipeline', 'UNet2DConditionModel', this.scheduler));
  }

  /** Generates `batchSize` images conditioned on `encoderHiddenStates`. */
  async generate(options: ConditionedGenerateOptions): Promise<GenerateResult> {
    const context = 'ConditionedPipeline.generate';
    const states = options.encoderHiddenStates;
    if (states === undefined || states.rank !== 3) throw new Error(`${context}: encoderHiddenStates must be a [B, L, D] tensor`);
    const batchSize = options.batchSize ?? states.shape[0];
    if (states.shape[0] !== 1 && states.shape[0] !== batchSize) {
      throw new RangeError(`${context}: encoderHiddenStates has ${states.shape[0]} rows for a batch of ${batchSize}`);
    }
    const negative = options.negativeEncoderHiddenStates;
    if (negative !== undefined && negative.shape.join(',') !== states.shape.join(',')) {
      throw new RangeError(`${context}: negativeEncoderHiddenStates shape [${negative.shape.join(', ')}] differs from encoderHiddenStates [${states.shape.join(', ')}]`);
    }
    return generateFromNoise(this, { ...options, batchSize }, context, (guidanceScale) => {
      const encoderHiddenStates = tf.tidy(() => {
        const full = tf.broadcastTo(states, [batchSize, states.shape[1], states.shape[2]]) as tf.Tensor3D;
        if (guidanceScale === 1) return full;
        const unconditional = negative === undefined ? tf.zerosLike(full) : tf.broadcastTo(negative, full.shape);
        return tf.concat([full, unconditional], 0) as tf.Tensor3D;
      });
      return { predict: guidedPredict(this.unet, { encoderHiddenStates }, guidanceScale), dispose: () => encoderHiddenStates.dispose() };
    }, states.shape[1]);
  }

  /** Frees the UNet's weights and the scheduler's state. */
  dispose(): void {
    this.unet.dispose();
    this.scheduler.dispose();
  }
}
