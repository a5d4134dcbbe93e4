import { saveSafetensors, writeConfigFile, type ConfigJson, type PretrainedSource } from '@diffusion-ts/core';
import { CONFIG_NAME, readPretrained, type FromPretrainedOptions, type PretrainedFiles } from '../pretrained-io.js';
import type { ExportedWeight } from '../weights.js';

/** The weights file transformers writes for a model (`text_encoder/model.safetensors` in a Diffusers pipeline folder). */
export const TRANSFORMERS_WEIGHTS_NAME = 'model.safetensors';

/** Options of `fromPretrained` for models in transformers' layout (`variant: 'fp16'` reads `model.fp16.safetensors`). */
export type TransformersFromPretrainedOptions = FromPretrainedOptions;

/** `model.safetensors`, or `model.<variant>.safetensors`. */
export function transformersWeightsName(variant?: string): string {
  if (variant === undefined || variant === '') return TRANSFORMERS_WEIGHTS_NAME;
  if (!/^[\w-]+$/.test(variant)) throw new Error(`pretrained: variant '${variant}' must be a plain name such as 'fp16'`);
  return `model.${variant}.safetensors`;
}

/**
 * Reads `config.json` and `model.safetensors` (F32, F16 or BF16; a variant, single or sharded as
 * `model.safetensors.index.json`) from a folder or URL in transformers' layout.
 */
export async function readTransformersPretrained(source: string | PretrainedSource, options: TransformersFromPretrainedOptions = {}): Promise<PretrainedFiles> {
  transformersWeightsName(options.variant);
  return readPretrained(source, options, TRANSFORMERS_WEIGHTS_NAME);
}

/** Writes `config.json` and `model.safetensors` (with `format: pt`, as transformers writes it) into `folder`, each atomically. */
export async function writeTransformersPretrained(folder: string, config: ConfigJson, tensors: Record<string, ExportedWeight>): Promise<void> {
  const { join } = await import('node:path');
  await saveSafetensors(join(folder, TRANSFORMERS_WEIGHTS_NAME), tensors, { format: 'pt' });
  await writeConfigFile(join(folder, CONFIG_NAME), config);
}
