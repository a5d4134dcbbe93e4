import {
  openPretrained,
  readSafetensors,
  saveSafetensors,
  writeConfigFile,
  type ConfigJson,
  type LoadOptions,
  type PretrainedSource,
} from '@diffusion-ts/core';
import type { ModelBudget } from './budget/model-budget.js';
import type { ExportedWeight, WeightTensor } from './weights.js';

/** The weights file Diffusers writes for a model. */
export const WEIGHTS_NAME = 'diffusion_pytorch_model.safetensors';
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
  /** The most parameters and activations the config may ask for (see `FromConfigOptions.budget`). */
  budget?: Partial<ModelBudget>;
}

/** The model folder (the subfolder of `source`, opened with the load limits when `source` is a string). */
export function pretrainedFolder(source: string | PretrainedSource, options: FromPretrainedOptions = {}): PretrainedSource {
  const root = typeof source === 'string' ? openPretrained(source, options) : source;
  return options.subfolder ? root.subfolder(options.subfolder) : root;
}

/** Reads the tensors of the weights file (default `diffusion_pytorch_model.safetensors`) in `folder`. */
export async function readPretrainedWeights(folder: PretrainedSource, weightsName = WEIGHTS_NAME): Promise<Record<string, WeightTensor>> {
  return readSafetensors(await folder.readBytes(weightsName)).tensors;
}

/** Writes `config.json` and the safetensors file into `folder` (each atomically). */
export async function writePretrained(
  folder: string,
  config: ConfigJson,
  tensors: Record<string, ExportedWeight>,
  weightsName = WEIGHTS_NAME,
): Promise<void> {
  const { join } = await import('node:path');
  await saveSafetensors(join(folder, weightsName), tensors, { format: 'pt' });
  await writeConfigFile(join(folder, CONFIG_NAME), config);
}
