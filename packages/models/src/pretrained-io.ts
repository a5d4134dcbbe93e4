import {
  loadSafetensors,
  openPretrained,
  saveSafetensors,
  writeConfigFile,
  type ConfigJson,
  type PretrainedSource,
} from '@diffusion-ts/core';
import type { ExportedWeight, WeightTensor } from './weights.js';

/** The weights file Diffusers writes for a model. */
export const WEIGHTS_NAME = 'diffusion_pytorch_model.safetensors';
/** The weights file transformers writes for a model (`text_encoder/model.safetensors` in a Diffusers pipeline folder). */
export const TRANSFORMERS_WEIGHTS_NAME = 'model.safetensors';
/** The config file Diffusers writes for a model. */
export const CONFIG_NAME = 'config.json';

/** Options of `fromPretrained`. */
export interface FromPretrainedOptions {
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
}

/** A model folder's config and tensors. */
export interface PretrainedFiles {
  location: string;
  config: ConfigJson;
  tensors: Record<string, WeightTensor>;
}

/** `weightsName` of a variant: `model.safetensors` -> `model.fp16.safetensors`; the name itself without one. */
export function variantWeightsName(weightsName: string, variant?: string): string {
  if (variant === undefined || variant === '') return weightsName;
  if (!/^[\w-]+$/.test(variant)) throw new Error(`pretrained: variant '${variant}' must be a plain name such as 'fp16'`);
  const dot = weightsName.lastIndexOf('.');
  return `${weightsName.slice(0, dot)}.${variant}${weightsName.slice(dot)}`;
}

/**
 * Reads `config.json` and the weights (`diffusion_pytorch_model.safetensors`, or `weightsName`,
 * of `options.variant`) from a folder or URL.
 */
export async function readPretrained(
  source: string | PretrainedSource,
  options: FromPretrainedOptions = {},
  weightsName = WEIGHTS_NAME,
): Promise<PretrainedFiles> {
  let root = typeof source === 'string' ? openPretrained(source) : source;
  if (options.subfolder) root = root.subfolder(options.subfolder);
  const fileName = variantWeightsName(weightsName, options.variant);
  const config = await root.readJson(CONFIG_NAME);
  const file = await loadSafetensors(await root.readBytes(fileName));
  return { location: root.location, config, tensors: file.tensors };
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
