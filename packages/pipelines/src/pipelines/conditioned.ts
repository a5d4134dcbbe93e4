/**
 * Generation from a `UNet2DConditionModel` with given encoder hidden states (text or other
 * embeddings), and classifier-free guidance against negative (default: all-zero) embeddings.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { UNet2DConditionModel } from '@diffusion-ts/models';
import type { Scheduler } from '@diffusion-ts/schedulers';
import { guide, runDenoisingLoop } from './denoise-loop.js';
import { DiffusionPipeline } from './diffusion-pipeline.js';
import { planGeneration, startNoise, type GenerateOptions, type GenerateResult } from './generate-options.js';
import type { ComponentSpecs } from './pipeline-folder.js';
import { SCHEDULER_COMPONENT } from './scheduler-component.js';

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

const CONTEXT = 'ConditionedPipeline.generate';

/** Samples from a cross-attention UNet given embeddings. */
export class ConditionedPipeline extends DiffusionPipeline<ConditionedComponents> {
  static override readonly expectedComponents: ComponentSpecs = {
    scheduler: SCHEDULER_COMPONENT,
    unet: { classes: ['UNet2DConditionModel'] },
  };
  declare readonly unet: UNet2DConditionModel;
  declare scheduler: Scheduler;

  /** Generates `batchSize` images conditioned on `encoderHiddenStates`. */
  async generate(options: ConditionedGenerateOptions): Promise<GenerateResult> {
    const batchSize = this.checkEmbeddings(options);
    const { shape, numInferenceSteps, generator, eta, guidanceScale } = planGeneration({ ...options, batchSize }, this, CONTEXT, {
      guided: true,
      sequenceLength: options.encoderHiddenStates.shape[1],
    });
    const guided = guidanceScale !== 1;
    // With guidance the batch runs twice: the conditional rows, then the negative (unconditional) ones.
    const encoderHiddenStates = this.batchEmbeddings(options, batchSize, guided);
    try {
      this.scheduler.setTimesteps(numInferenceSteps);
      const noise = startNoise(shape, this.scheduler, generator);
      const images = await runDenoisingLoop(noise, this.scheduler.timesteps, options, (sample, t) => {
        const input = this.scheduler.scaleModelInput(sample, t) as tf.Tensor4D;
        const output = this.unet.predict(guided ? tf.concat([input, input]) : input, t, { encoderHiddenStates });
        const noisePred = guided ? guide(output, guidanceScale) : output;
        return this.scheduler.step(noisePred, t, sample, { generator, eta }).prevSample;
      });
      return { images };
    } finally {
      encoderHiddenStates.dispose();
    }
  }

  /** Checks the embeddings' shapes; returns the batch size (`batchSize`, else their row count). */
  private checkEmbeddings(options: ConditionedGenerateOptions): number {
    const states = options.encoderHiddenStates;
    if (states === undefined || states.rank !== 3) throw new Error(`${CONTEXT}: encoderHiddenStates must be a [B, L, D] tensor`);
    const batchSize = options.batchSize ?? states.shape[0];
    if (states.shape[0] !== 1 && states.shape[0] !== batchSize) {
      throw new RangeError(`${CONTEXT}: encoderHiddenStates has ${states.shape[0]} rows for a batch of ${batchSize}`);
    }
    const negative = options.negativeEncoderHiddenStates;
    if (negative !== undefined && negative.shape.join(',') !== states.shape.join(',')) {
      throw new RangeError(
        `${CONTEXT}: negativeEncoderHiddenStates shape [${negative.shape.join(', ')}] differs from encoderHiddenStates [${states.shape.join(', ')}]`,
      );
    }
    return batchSize;
  }

  /** The embeddings broadcast to the batch, followed by the negative ones when guided. */
  private batchEmbeddings(options: ConditionedGenerateOptions, batchSize: number, guided: boolean): tf.Tensor3D {
    const { encoderHiddenStates: states, negativeEncoderHiddenStates: negative } = options;
    return tf.tidy(() => {
      const full = tf.broadcastTo(states, [batchSize, states.shape[1], states.shape[2]]) as tf.Tensor3D;
      if (!guided) return full;
      const unconditional = negative === undefined ? tf.zerosLike(full) : tf.broadcastTo(negative, full.shape);
      return tf.concat([full, unconditional], 0) as tf.Tensor3D;
    });
  }
}
