import { loadSafetensors, openPretrained, saveSafetensors, writeConfigFile, type ConfigJson, type PretrainedSource } from '@diffusion-ts/core';
import { CONFIG_NAME, type FromPretrainedOptions, type PretrainedFiles } from '../pretrained-io.js';
import type { ExportedWeight } from '../weights.js';

/** The weights file transformers writes for a model (`text_encoder/model.safetensors` in a Diffusers pipeline folder). */
export const TRANSFORMERS_WEIGHTS_NAME = 'model.safetensors';

/** Options of `fromPretrained` for models in transformers' layout. */
export interface TransformersFromPretrainedOptions extends FromPretrainedOptions {
  /** A weights variant: `fp16` reads `model.fp16.safetensors` (widened to float32). */
  variant?: string;
}

/** `model.safetensors`, or `model.<variant>.safetensors`. */
export function transformersWeightsName(variant?: string): string {
  if (variant === undefined || variant === '') return TRANSFORMERS_WEIGHTS_NAME;
  if (!/^[\w-]+$/.test(variant)) throw new Error(`pretrained: variant '${variant}' must be a plain name such as 'fp16'`);
  return `model.${variant}.safetensors`;
}

/** Reads `config.json` and `model.safetensors` (F32, F16 or BF16) from a folder or URL in transformers' layout. */
export async function readTransformersPretrained(source: string | PretrainedSource, options: TransformersFromPretrainedOptions = {}): Promise<PretrainedFiles> {
  let root = typeof source === 'string' ? openPretrained(source) : source;
  if (options.subfolder) root = root.subfolder(options.subfolder);
  const weightsName = transformersWeightsName(options.variant);
  const config = await root.readJson(CONFIG_NAME);
  const file = await loadSafetensors(await root.readBytes(weightsName));
  return { location: `${root.location}/${weightsName}`, config, tensors: file.tensors };
}

/** Writes `config.json` and `model.safetensors` (with `format: pt`, as transformers writes it) into `folder`, each atomically. */
export async function writeTransformersPretrained(folder: string, config: ConfigJson, tensors: Record<string, ExportedWeight>): Promise<void> {
  const { join } = await import('node:path');
  await saveSafetensors(join(folder, TRANSFORMERS_WEIGHTS_NAME), tensors, { format: 'pt' });
  await writeConfigFile(join(folder, CONFIG_NAME), config);
}
