import {
  findWeightFiles,
  loadWeightFiles,
  openPretrained,
  saveSafetensors,
  writeConfigFile,
  type ConfigJson,
  type PretrainedSource,
} from '@diffusion-ts/core';
import type { ExportedWeight, WeightTensor } from './weights.js';

/** The weights file Diffusers writes for a model. */
export const WEIGHTS_NAME = 'diffusion_pytorch_model.safetensors';
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
   * A weights variant: `fp16` reads `diffusion_pytorch_model.fp16.safetensors` (or its shards),
   * widened to float32; the plain file is used, with a warning, where the folder has no such variant.
   */
  variant?: string;
}

/** A model folder's config and tensors. */
export interface PretrainedFiles {
  location: string;
  config: ConfigJson;
  tensors: Record<string, WeightTensor>;
}

/**
 * Reads `config.json` and the weights from a folder or URL: `weightsName`
 * (`diffusion_pytorch_model.safetensors`) or its variant, single or sharded (`….safetensors.index.json`).
 */
export async function readPretrained(
  source: string | PretrainedSource,
  options: FromPretrainedOptions = {},
  weightsName = WEIGHTS_NAME,
): Promise<PretrainedFiles> {
  let root = typeof source === 'string' ? openPretrained(source) : source;
  if (options.subfolder) root = root.subfolder(options.subfolder);
  const config = await root.readJson(CONFIG_NAME);
  const found = await findWeightFiles(root, weightsName, { variant: options.variant, onWarning: options.onWarning });
  const tensors = await loadWeightFiles(root, found);
  return { location: found.files.length === 1 ? `${root.location}/${found.files[0]}` : `${root.location}/${found.index}`, config, tensors };
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
