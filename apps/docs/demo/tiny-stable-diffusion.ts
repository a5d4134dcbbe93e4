/**
 * The Stable Diffusion test page's pipeline: a randomly initialised tiny Stable Diffusion
 * (UNet2DConditionModel 32/64 with cross-attention, AutoencoderKL 32/64, a 2-layer CLIP text
 * encoder), built in the browser. It draws noise, not pictures: the page checks that the whole
 * pipeline (text encoder, guided loop, VAE decode) runs on the backend, not what it draws.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AutoencoderKL, CLIPTextModel, UNet2DConditionModel } from '@diffusion-ts/models';
import { StableDiffusionPipeline } from '@diffusion-ts/pipelines';
import { schedulerFromConfig } from '@diffusion-ts/schedulers';

const UNET = {
  block_out_channels: [32, 64],
  down_block_types: ['CrossAttnDownBlock2D', 'DownBlock2D'],
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D'],
  cross_attention_dim: 32,
  attention_head_dim: 8,
  layers_per_block: 1,
  sample_size: 16,
};
const VAE = {
  block_out_channels: [32, 64],
  down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D'],
  up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D'],
  layers_per_block: 1,
  sample_size: 32,
};
const TEXT = {
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  vocab_size: 1000,
  max_position_embeddings: 77,
};
const SCHEDULER = {
  _class_name: 'DPMSolverMultistepScheduler',
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  beta_end: 0.012,
  steps_offset: 1,
};

/** What one run reports. */
export interface TinyRun {
  /** Images [1, 32, 32, 3] in [0, 1] as RGBA bytes. */
  rgba: Uint8ClampedArray;
  width: number;
  height: number;
  steps: number;
  milliseconds: number;
}

/** Builds the tiny pipeline, encodes random prompt ids, runs `steps` guided steps and decodes. */
export async function runTinyStableDiffusion(steps: number, onStep: (index: number) => void | Promise<void>): Promise<TinyRun> {
  const unet = UNet2DConditionModel.fromConfig(UNET, { seed: 1 });
  const vae = AutoencoderKL.fromConfig(VAE, { seed: 2 });
  const textEncoder = CLIPTextModel.fromConfig(TEXT, { seed: 3 });
  const pipeline = new StableDiffusionPipeline({ vae, unet, textEncoder, scheduler: schedulerFromConfig(SCHEDULER) });
  const embed = (ids: number[]): tf.Tensor3D => {
    const input = tf.tensor2d([[...ids, ...new Array<number>(77 - ids.length).fill(999)]], [1, 77], 'int32');
    const { lastHiddenState, poolerOutput } = textEncoder.encode(input);
    tf.dispose([input, poolerOutput]);
    return lastHiddenState;
  };
  const promptEmbeds = embed([998, 17, 42, 7, 999]);
  const negativePromptEmbeds = embed([998, 999]);
  const started = performance.now();
  try {
    const { images } = await pipeline.generate({
      promptEmbeds,
      negativePromptEmbeds,
      guidanceScale: 7.5,
      numInferenceSteps: steps,
      seed: 4,
      onStep: (index) => onStep(index),
    });
    const milliseconds = performance.now() - started;
    const [, height, width] = images!.shape;
    const rgb = await images!.data();
    images!.dispose();
    const rgba = new Uint8ClampedArray(width * height * 4);
    for (let i = 0; i < width * height; i += 1) {
      for (let c = 0; c < 3; c += 1) rgba[i * 4 + c] = Math.round(rgb[i * 3 + c] * 255);
      rgba[i * 4 + 3] = 255;
    }
    return { rgba, width, height, steps, milliseconds };
  } finally {
    tf.dispose([promptEmbeds, negativePromptEmbeds]);
    pipeline.dispose();
  }
}

/** Tensors alive now (the page reports the difference across a run). */
export function liveTensors(): number {
  return tf.memory().numTensors;
}
