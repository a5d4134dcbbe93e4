import type * as tf from '@tensorflow/tfjs-core';
import * as models from '@diffusion-ts/models';
import type { ConfigJson } from '@diffusion-ts/core';

/** Something that predicts the noise in an NHWC batch at a timestep. */
export interface DemoModel {
  predict(sample: tf.Tensor4D, timestep: number): tf.Tensor4D;
  dispose(): void;
}

/** The model the demo runs, where it came from, and the scheduler config shipped with it. */
export interface LoadedModel {
  model: DemoModel;
  source: 'shipped' | 'random';
  description: string;
  sampleSize: number;
  channels: number;
  schedulerConfig: ConfigJson | null;
}

/** Options of the randomly initialised tiny UNet used while no trained model is shipped. */
const TINY_UNET: ConfigJson = {
  _class_name: 'UNet2DModel',
  sample_size: 28,
  in_channels: 1,
  out_channels: 1,
  block_out_channels: [16, 32],
  layers_per_block: 1,
  norm_num_groups: 8,
  down_block_types: ['DownBlock2D', 'DownBlock2D'],
  up_block_types: ['UpBlock2D', 'UpBlock2D'],
};

async function fetchJson(url: string): Promise<ConfigJson | null> {
  const response = await fetch(url);
  return response.ok ? ((await response.json()) as ConfigJson) : null;
}

/**
 * Loads the shipped MNIST model (Diffusers pipeline layout under `modelsBase/mnist-ddpm/`) when
 * the build copied one into the site, otherwise a randomly initialised tiny UNet.
 */
export async function loadModel(modelsBase: string): Promise<LoadedModel> {
  const UNet = models.UNet2DModel;
  if (typeof UNet !== 'function') throw new Error('@diffusion-ts/models does not export UNet2DModel (yet)');
  const manifest = await fetchJson(`${modelsBase}manifest.json`);
  if (manifest?.shipped === true) {
    const base = new URL(`${modelsBase}mnist-ddpm/`, window.location.href).href;
    const unet = await UNet.fromPretrained(`${base}unet`);
    const config = unet.config as unknown as { sampleSize: number; inChannels: number };
    return {
      model: unet,
      source: 'shipped',
      description: `shipped MNIST model (${unet.parameterCount.toLocaleString('en')} parameters)`,
      sampleSize: config.sampleSize,
      channels: config.inChannels,
      schedulerConfig: await fetchJson(`${base}scheduler/scheduler_config.json`),
    };
  }
  const unet = UNet.fromConfig(TINY_UNET, { seed: 0 });
  return {
    model: unet,
    source: 'random',
    description: `randomly initialised tiny UNet (${unet.parameterCount.toLocaleString('en')} parameters)`,
    sampleSize: 28,
    channels: 1,
    schedulerConfig: null,
  };
}
