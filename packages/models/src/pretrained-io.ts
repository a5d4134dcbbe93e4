import {
  findWeightFiles,
  loadWeightFiles,
  openPretrained,
  saveSafetensors,
  writeConfigFile,
  type ConfigJson,
  type LoadOptions,
  type PretrainedSource,
  type SafetensorsTensor,
} from '@diffusion-ts/core';
import type { ModelBudget } from './budget/model-budget.js';
import type { WeightTensor } from './weights.js';

/** The weights file Diffusers writes for a model. */
export const WEIGHTS_NAME = 'diffusion_pytorch_model.safetensors';
/** The weights file transformers writes for a model (`text_encoder/model.safetensors` in a Diffusers pipeline folder). */
export const TRANSFORMERS_WEIGHTS_NAME = 'model.safetensors';
/** The config file Diffusers writes for a model. */
export const CONFIG_NAME = 'config.json';

/**
 * Options of `fromPretrained`: a subfolder, warnings, the size budget of the config and the load
 * limits (timeout, sizes, redirects, `signal`; used when the source is given as a string).
 */
export interface FromPretrainedOptions extends LoadOptions {
  /** A subfolder of the source, e.g. `unet` in a pipeline folder. */
  subfolder?: string;
  /**
   * Receives each warning (unknown config keys, unused weights). Default: `console.warn`.
   * The same messages are kept in the model's `loadWarnings`.
   */
  onWarning?: (message: string) => void;
  /** Refuse weights the model does not use (a `WeightsError` listing them) instead of warning. Default false, as Diffusers. */
  strict?: boolean;
  /**
   * A weights variant: `fp16` reads `diffusion_pytorch_model.fp16.safetensors` (for transformers'
   * layout `model.fp16.safetensors`) or its shards, widened to float32 as every F16/BF16 file is;
   * the plain files are used, with a warning, where the folder has no such variant.
   */
  variant?: string;
  /** The most parameters and activations the config may ask for (see `FromConfigOptions.budget`). */
  budget?: Partial<ModelBudget>;
}

/** The model folder (the subfolder of `source`, opened with the load limits when `source` is a string). */
export function pretrainedFolder(source: string | PretrainedSource, options: FromPretrainedOptions = {}): PretrainedSource {
  const root = typeof source === 'string' ? openPretrained(source, options) : source;
  return options.subfolder ? root.subfolder(options.subfolder) : root;
}

/**
 * Reads the weights in `folder`, within the folder's load limits: `weightsName` (default
 * `diffusion_pytorch_model.safetensors`) of `variant`, one file or shards listed by
 * `….safetensors.index.json` (the plain files, with a warning to `onWarning`, where the folder has
 * no such variant). Local files are read one tensor at a time.
 */
export async function readPretrainedWeights(
  folder: PretrainedSource,
  weightsName = WEIGHTS_NAME,
  variant?: string,
  onWarning?: (message: string) => void,
): Promise<Record<string, WeightTensor>> {
  const found = await findWeightFiles(folder, weightsName, { variant, onWarning });
  return loadWeightFiles(folder, found);
}

/** Writes `config.json` and the safetensors file into `folder` (each atomically). */
export async function writePretrained(
  folder: string,
  config: ConfigJson,
  tensors: Record<string, SafetensorsTensor>,
  weightsName = WEIGHTS_NAME,
): Promise<void> {
  const nodePath = await import('node:path');
  await saveSafetensors(nodePath.join(folder, weightsName), tensors, { format: 'pt' });
  await writeConfigFile(nodePath.join(folder, CONFIG_NAME), config);
}
