import {
  openPretrained,
  readSafetensors,
  saveSafetensors,
  truncateText,
  writeConfigFile,
  type ConfigJson,
  type LoadOptions,
  type PretrainedSource,
} from '@diffusion-ts/core';
import type { ModelBudget } from './budget/model-budget.js';
import type { ExportedWeight, WeightTensor } from './weights.js';

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
   * layout `model.fp16.safetensors`), widened to float32 as every F16/BF16 file is.
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

/** `weightsName` of a variant: `model.safetensors` -> `model.fp16.safetensors`; the name itself without one. */
export function variantWeightsName(weightsName: string, variant?: string): string {
  if (variant === undefined || variant === '') return weightsName;
  if (!/^[\w-]+$/.test(variant)) throw new Error(`pretrained: variant '${truncateText(variant)}' must be a plain name such as 'fp16'`);
  const dot = weightsName.lastIndexOf('.');
  return `${weightsName.slice(0, dot)}.${variant}${weightsName.slice(dot)}`;
}

/**
 * Reads the tensors of the weights file in `folder`: `weightsName` (default
 * `diffusion_pytorch_model.safetensors`) of `variant`, within the folder's load limits.
 */
export async function readPretrainedWeights(
  folder: PretrainedSource,
  weightsName = WEIGHTS_NAME,
  variant?: string,
): Promise<Record<string, WeightTensor>> {
  return readSafetensors(await folder.readBytes(variantWeightsName(weightsName, variant))).tensors;
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
