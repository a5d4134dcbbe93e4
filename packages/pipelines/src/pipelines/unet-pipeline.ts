/**
 * Loads a pixel-space `UNet2DModel` pipeline folder (what `diffusion-ts train` writes) as the
 * pipeline its UNet needs: `ClassConditionalPipeline` when `unet/config.json` has a class
 * embedding, `UnconditionalPipeline` otherwise. Diffusers names both `DDPMPipeline`.
 */
import { openPretrained, type PretrainedSource } from '@diffusion-ts/core';
import { ClassConditionalPipeline } from './class-conditional.js';
import type { PipelineFromPretrainedOptions } from './diffusion-pipeline.js';
import { UnconditionalPipeline } from './unconditional.js';

/** Either pipeline of a `UNet2DModel` folder. */
export type UNet2DPipeline = UnconditionalPipeline | ClassConditionalPipeline;

/** Whether a pipeline folder's `unet/config.json` sets `num_class_embeds` or `class_embed_type` (false without one). */
export async function hasClassEmbedding(source: string | PretrainedSource): Promise<boolean> {
  const root = typeof source === 'string' ? openPretrained(source) : source;
  if (!(await root.exists('unet/config.json'))) return false;
  const config = await root.readJson('unet/config.json');
  const classes = config.num_class_embeds;
  const type = config.class_embed_type;
  return (typeof classes === 'number' && classes > 0) || (typeof type === 'string' && type.length > 0);
}

/** Loads a `UNet2DModel` folder as a class-conditional or an unconditional pipeline, as its UNet asks. */
export async function loadUNet2DPipeline(source: string, options: PipelineFromPretrainedOptions = {}): Promise<UNet2DPipeline> {
  const root = openPretrained(source, options);
  return (await hasClassEmbedding(root))
    ? ClassConditionalPipeline.fromPretrained(root, options)
    : UnconditionalPipeline.fromPretrained(root, options);
}
