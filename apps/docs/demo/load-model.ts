import type * as tf from '@tensorflow/tfjs-core';
import * as models from '@diffusion-ts/models';
import type { ConfigJson } from '@diffusion-ts/core';

/** Something that predicts the noise in an NHWC batch at a timestep (given class labels when it is class-conditional). */
export interface DemoModel {
  predict(sample: tf.Tensor4D, timestep: number, options?: { classLabels?: tf.Tensor1D }): tf.Tensor4D;
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
  /** For a class-conditional model: the classes one can ask for, and the null class id used for guidance. */
  classes?: { count: number; nullClass: number };
}

/** What the site build copied: `public/models/manifest.json`, written by scripts/prepare.mjs. */
export interface ModelManifest {
  /** models/mnist-ddpm was copied to `mnist-ddpm/`. */
  shipped: boolean;
  /** models/mnist-class-ddpm was copied to `mnist-class-ddpm/`. */
  classShipped: boolean;
  /** The class model's guidance scale: `DEFAULT_CLASS_GUIDANCE` of @diffusion-ts/pipelines, as the CLI uses it (undefined in an older build). */
  guidance?: number;
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

function unetClass(): typeof models.UNet2DModel {
  const UNet = models.UNet2DModel;
  if (typeof UNet !== 'function') throw new Error('@diffusion-ts/models does not export UNet2DModel (yet)');
  return UNet;
}

/** Reads the build's manifest (both false when it is missing). */
export async function loadManifest(modelsBase: string): Promise<ModelManifest> {
  const manifest = await fetchJson(`${modelsBase}manifest.json`);
  const guidance = typeof manifest?.guidance === 'number' && Number.isFinite(manifest.guidance) ? manifest.guidance : undefined;
  return { shipped: manifest?.shipped === true, classShipped: manifest?.classShipped === true, guidance };
}

/** Loads a shipped pipeline folder's UNet and scheduler config over HTTP. */
async function loadShipped(modelsBase: string, folder: string, label: string): Promise<LoadedModel> {
  const base = new URL(`${modelsBase}${folder}/`, window.location.href).href;
  const unet = await unetClass().fromPretrained(`${base}unet`);
  const config = unet.config as unknown as { sampleSize: number; inChannels: number; numClassEmbeds: number | null };
  const loaded: LoadedModel = {
    model: unet,
    source: 'shipped',
    description: `${label} (${unet.parameterCount.toLocaleString('en')} parameters)`,
    sampleSize: config.sampleSize,
    channels: config.inChannels,
    schedulerConfig: await fetchJson(`${base}scheduler/scheduler_config.json`),
  };
  // Trained with the last class embedding as the null class (diffusion-ts train --class-conditional).
  if (config.numClassEmbeds !== null) loaded.classes = { count: config.numClassEmbeds - 1, nullClass: config.numClassEmbeds - 1 };
  return loaded;
}

/**
 * Loads the shipped MNIST model (Diffusers pipeline layout under `modelsBase/mnist-ddpm/`) when
 * the build copied one into the site, otherwise a randomly initialised tiny UNet.
 */
export async function loadModel(modelsBase: string, manifest: ModelManifest): Promise<LoadedModel> {
  if (manifest.shipped) return loadShipped(modelsBase, 'mnist-ddpm', 'shipped MNIST model');
  const unet = unetClass().fromConfig(TINY_UNET, { seed: 0 });
  return {
    model: unet,
    source: 'random',
    description: `randomly initialised tiny UNet (${unet.parameterCount.toLocaleString('en')} parameters)`,
    sampleSize: 28,
    channels: 1,
    schedulerConfig: null,
  };
}

/** Loads the shipped class-conditional MNIST model (`modelsBase/mnist-class-ddpm/`): the digit picker's model. */
export function loadClassModel(modelsBase: string): Promise<LoadedModel> {
  return loadShipped(modelsBase, 'mnist-class-ddpm', 'shipped class-conditional MNIST model');
}
