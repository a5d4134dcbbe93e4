/**
 * What `fromPretrained` checks before a Stable Diffusion folder's weights are read: every
 * component's `config.json` and the bytes of its weight files (from the safetensors headers), that
 * the components fit together, and that they fit the current backend at the UNet's default image
 * size (one image, doubled for guidance).
 */
import { findWeightFiles, memoryCapacity, weightFootprint, type ConfigJson, type PretrainedSource } from '@diffusion-ts/core';
import {
  attentionScoreBudget,
  AUTOENCODER_KL_DEFAULTS,
  CLIP_TEXT_DEFAULTS,
  TRANSFORMERS_WEIGHTS_NAME,
  UNET_2D_CONDITION_DEFAULTS,
  WEIGHTS_NAME,
} from '@diffusion-ts/models';
import { checkComponentShapes, distinct, type PipelineTask } from './components.js';
import {
  capMemoryLimit,
  estimateTextEncoderBytes,
  estimateUNetActivationBytes,
  estimateVaeDecodeBytes,
  planMemory,
  type MemoryPlan,
  type MemoryPlanRow,
  type Residency,
} from './memory-plan.js';

/** A component's config and weight footprint, read before loading. */
interface ComponentFacts {
  config: ConfigJson;
  row: MemoryPlanRow;
}

async function readComponentFacts(
  root: PretrainedSource,
  name: string,
  weightsName: string,
  variant: string | undefined,
  context: string,
): Promise<ComponentFacts> {
  const folder = root.subfolder(name);
  if (!(await folder.exists('config.json')))
    throw new Error(`${context}: the '${name}' component has no ${name}/config.json in ${root.location}`);
  const config = await folder.readJson('config.json');
  const found = await findWeightFiles(folder, weightsName, { variant, onWarning: () => undefined });
  const footprint = await weightFootprint(folder, found);
  return {
    config,
    row: { component: name, weightBytes: footprint.loadedBytes, largestTensorBytes: footprint.largestTensorBytes, activationBytes: 0 },
  };
}

function numberOf(config: ConfigJson, key: string, fallback: number): number {
  const value = config[key];
  return typeof value === 'number' ? value : fallback;
}

function perBlock(config: ConfigJson, key: string, fallback: number | readonly number[]): number | readonly number[] {
  const value = config[key];
  return typeof value === 'number' || (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number'))
    ? value
    : fallback;
}

/** The activation estimates of a pipeline's three stages (bytes). */
export interface StageEstimates {
  text: number;
  unet: number;
  vae: number;
}

/** The stages' activation estimates for `batch` images of `height` x `width` (the UNet's batch doubled with guidance), from the configs. */
export function stageEstimates(
  configs: { unet: ConfigJson; vae: ConfigJson; text?: ConfigJson },
  batch: number,
  height: number,
  width: number,
  guidance: boolean,
): StageEstimates {
  const budget = attentionScoreBudget();
  const vaeChannels = perBlock(configs.vae, 'block_out_channels', AUTOENCODER_KL_DEFAULTS.blockOutChannels) as number[];
  const factor = 2 ** (vaeChannels.length - 1);
  const unetChannels = perBlock(configs.unet, 'block_out_channels', UNET_2D_CONDITION_DEFAULTS.blockOutChannels) as number[];
  const heads =
    configs.unet.num_attention_heads != null
      ? perBlock(configs.unet, 'num_attention_heads', 8)
      : perBlock(configs.unet, 'attention_head_dim', UNET_2D_CONDITION_DEFAULTS.attentionHeadDim);
  const downTypes = Array.isArray(configs.unet.down_block_types)
    ? (configs.unet.down_block_types as string[])
    : UNET_2D_CONDITION_DEFAULTS.downBlockTypes;
  const unet = estimateUNetActivationBytes(
    {
      blockOutChannels: unetChannels,
      layersPerBlock: perBlock(configs.unet, 'layers_per_block', UNET_2D_CONDITION_DEFAULTS.layersPerBlock),
      attentionHeads: Math.max(...distinct(heads)),
      attentionAtFirstLevel: downTypes[0]?.startsWith('CrossAttn') ?? true,
    },
    guidance ? 2 * batch : batch,
    Math.ceil(height / factor),
    Math.ceil(width / factor),
    budget,
  );
  const vae = estimateVaeDecodeBytes(
    { blockOutChannels: vaeChannels, latentChannels: numberOf(configs.vae, 'latent_channels', 4) },
    1,
    height,
    width,
    budget,
  );
  const text = configs.text
    ? estimateTextEncoderBytes(
        numberOf(configs.text, 'hidden_size', CLIP_TEXT_DEFAULTS.hiddenSize),
        numberOf(configs.text, 'intermediate_size', CLIP_TEXT_DEFAULTS.intermediateSize),
        numberOf(configs.text, 'num_attention_heads', CLIP_TEXT_DEFAULTS.numAttentionHeads),
        2 * batch,
        numberOf(configs.text, 'max_position_embeddings', 77),
      )
    : 0;
  return { text, unet, vae };
}

/** Options of the planning step. */
export interface FolderPlanOptions {
  variant?: string;
  residency?: Residency | 'auto';
  /** A cap in bytes below the backend's limit. */
  memoryLimit?: number;
  /** Whether the folder has (and the caller did not replace) a text encoder. */
  textEncoder: boolean;
}

/**
 * Reads the configs and weight headers of `unet/`, `vae/` and `text_encoder/`, checks that they fit
 * together for `task`, and returns the memory plan at the UNet's default size on the current
 * backend (a `MemoryPlanError` naming the component, its size and the backend when it cannot fit).
 */
export async function planStableDiffusionFolder(
  root: PretrainedSource,
  task: PipelineTask,
  options: FolderPlanOptions,
  context: string,
): Promise<MemoryPlan> {
  const unet = await readComponentFacts(root, 'unet', WEIGHTS_NAME, options.variant, context);
  const vae = await readComponentFacts(root, 'vae', WEIGHTS_NAME, options.variant, context);
  const text = options.textEncoder
    ? await readComponentFacts(root, 'text_encoder', TRANSFORMERS_WEIGHTS_NAME, options.variant, context)
    : undefined;
  checkComponentShapes(
    {
      latentChannels: numberOf(vae.config, 'latent_channels', AUTOENCODER_KL_DEFAULTS.latentChannels),
      unetInChannels: numberOf(unet.config, 'in_channels', UNET_2D_CONDITION_DEFAULTS.inChannels),
      unetOutChannels: numberOf(unet.config, 'out_channels', UNET_2D_CONDITION_DEFAULTS.outChannels),
      crossAttentionDims: distinct(perBlock(unet.config, 'cross_attention_dim', UNET_2D_CONDITION_DEFAULTS.crossAttentionDim)),
      textHiddenSize: text ? numberOf(text.config, 'hidden_size', CLIP_TEXT_DEFAULTS.hiddenSize) : undefined,
    },
    task,
    `${context}: ${root.location}`,
  );
  const vaeChannels = perBlock(vae.config, 'block_out_channels', AUTOENCODER_KL_DEFAULTS.blockOutChannels) as number[];
  const sampleSize = perBlock(unet.config, 'sample_size', 64);
  const [latentHeight, latentWidth] = typeof sampleSize === 'number' ? [sampleSize, sampleSize] : [sampleSize[0], sampleSize[1]];
  const factor = 2 ** (vaeChannels.length - 1);
  const estimates = stageEstimates(
    { unet: unet.config, vae: vae.config, text: text?.config },
    1,
    latentHeight * factor,
    latentWidth * factor,
    true,
  );
  unet.row.activationBytes = estimates.unet;
  vae.row.activationBytes = estimates.vae;
  if (text) text.row.activationBytes = estimates.text;
  const rows = [unet.row, vae.row, ...(text ? [text.row] : [])];
  const limit = capMemoryLimit(memoryCapacity(), options.memoryLimit);
  return planMemory(rows, limit, options.residency ?? 'auto', `${context}: ${root.location}`);
}
