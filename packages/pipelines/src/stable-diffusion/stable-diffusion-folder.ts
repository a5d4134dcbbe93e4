/**
 * Stable Diffusion folders in Diffusers' layout: `model_index.json` naming each component's
 * library and class, one subfolder per component. Reading checks every entry (an unknown class is
 * an error naming it), plans memory from the configs and safetensors headers before any weights
 * are read, then loads the components; writing produces a folder Diffusers' `from_pretrained` loads.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  backendMemoryLimit,
  DIFFUSERS_VERSION,
  findWeightFiles,
  openPretrained,
  weightFootprint,
  writeConfigFile,
  type ConfigJson,
  type PretrainedSource,
} from '@diffusion-ts/core';
import {
  attentionScoreBudget,
  AUTOENCODER_KL_DEFAULTS,
  AutoencoderKL,
  CLIP_TEXT_DEFAULTS,
  CLIPTextModel,
  CLIPTextModelWithProjection,
  TRANSFORMERS_WEIGHTS_NAME,
  UNET_2D_CONDITION_DEFAULTS,
  UNet2DConditionModel,
  WEIGHTS_NAME,
} from '@diffusion-ts/models';
import { SCHEDULERS, schedulerFromConfig, type Scheduler } from '@diffusion-ts/schedulers';
import { checkComponentShapes, distinct, type PipelineTask, type PromptEncoder, type StableDiffusionComponents } from './components.js';
import {
  estimateTextEncoderBytes,
  estimateUNetActivationBytes,
  estimateVaeDecodeBytes,
  planMemory,
  type MemoryPlan,
  type MemoryPlanRow,
  type Residency,
} from './memory-plan.js';
import { loadClipTokenizer, TOKENIZER_FILE_NAMES } from './prompt-tokenizer.js';

/** Options of the Stable Diffusion pipelines' `fromPretrained`. */
export interface StableDiffusionFromPretrainedOptions {
  /** Weights variant, e.g. `fp16` (`diffusion_pytorch_model.fp16.safetensors`, `model.fp16.safetensors`), widened to float32. */
  variant?: string;
  /**
   * `resident` keeps every component on the backend; `sequential` keeps only the running stage's
   * weights there (the others wait in host memory); `auto` (default) picks `resident` when the
   * plan fits, else `sequential`, else refuses before loading.
   */
  residency?: Residency | 'auto';
  /** Receives loading warnings (unused weights, variant fallbacks, skipped components). Default `console.warn`. */
  onWarning?: (message: string) => void;
}

/** Components a Stable Diffusion folder may list that generation does not use; skipped with a note. */
const SKIPPED_COMPONENTS = new Set(['safety_checker', 'feature_extractor', 'image_encoder']);
/** The components the pipelines load. */
const LOADED_COMPONENTS = ['unet', 'vae', 'text_encoder', 'tokenizer', 'scheduler'] as const;
type LoadedComponent = (typeof LOADED_COMPONENTS)[number];

/** The classes each component may have (Diffusers' and transformers' names). */
const COMPONENT_CLASSES: Record<LoadedComponent, readonly string[]> = {
  unet: ['UNet2DConditionModel'],
  vae: ['AutoencoderKL'],
  text_encoder: ['CLIPTextModel', 'CLIPTextModelWithProjection'],
  tokenizer: ['CLIPTokenizer', 'CLIPTokenizerFast'],
  scheduler: Object.keys(SCHEDULERS),
};

/** One `model_index.json` entry: `[library, class]`, or `null` for an absent component. */
export interface ComponentEntry {
  library: string;
  className: string;
}

/** A read and checked `model_index.json`. */
export interface ModelIndex {
  className: string;
  components: Partial<Record<LoadedComponent, ComponentEntry>>;
  /** Components listed but not used here (safety checker, feature extractor). */
  skipped: string[];
}

/** Reads and checks `model_index.json`; an unknown component or class throws an error naming it. */
export async function readModelIndex(source: PretrainedSource, context: string): Promise<ModelIndex> {
  if (!(await source.exists('model_index.json'))) {
    throw new Error(`${context}: ${source.location} is not a Diffusers pipeline folder (model_index.json is missing)`);
  }
  const json = await source.readJson('model_index.json');
  const className = typeof json._class_name === 'string' ? json._class_name : '(no _class_name)';
  const components: ModelIndex['components'] = {};
  const skipped: string[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name.startsWith('_') || !Array.isArray(value)) continue;
    const [library, entryClass] = value as unknown[];
    if (library === null && entryClass === null) continue;
    if (typeof library !== 'string' || typeof entryClass !== 'string') {
      throw new Error(`${context}: model_index.json entry '${name}' must be [library, class] or [null, null], got ${JSON.stringify(value).slice(0, 80)}`);
    }
    if (SKIPPED_COMPONENTS.has(name)) {
      skipped.push(`${name} (${entryClass})`);
      continue;
    }
    if (!(LOADED_COMPONENTS as readonly string[]).includes(name)) {
      throw new Error(`${context}: model_index.json lists a component '${name}' (${library}.${entryClass}) that a Stable Diffusion pipeline does not have`);
    }
    const known = COMPONENT_CLASSES[name as LoadedComponent];
    if (!known.includes(entryClass)) {
      throw new Error(`${context}: model_index.json gives '${name}' the class ${library}.${entryClass}, which diffusion-ts cannot load (known: ${known.join(', ')})`);
    }
    components[name as LoadedComponent] = { library, className: entryClass };
  }
  for (const required of ['unet', 'vae', 'scheduler'] as const) {
    if (components[required] === undefined) throw new Error(`${context}: model_index.json has no '${required}' component`);
  }
  return { className, components, skipped };
}

/** A component's config and weight footprint, read before loading. */
interface ComponentPlanInput {
  config: ConfigJson;
  row: MemoryPlanRow;
}

async function readComponentPlan(root: PretrainedSource, name: string, weightsName: string, options: StableDiffusionFromPretrainedOptions, context: string): Promise<ComponentPlanInput> {
  const folder = root.subfolder(name);
  if (!(await folder.exists('config.json'))) throw new Error(`${context}: the '${name}' component has no ${name}/config.json in ${root.location}`);
  const config = await folder.readJson('config.json');
  const found = await findWeightFiles(folder, weightsName, { variant: options.variant, onWarning: () => undefined });
  const footprint = await weightFootprint(folder, found);
  return { config, row: { component: name, weightBytes: footprint.loadedBytes, largestTensorBytes: footprint.largestTensorBytes, activationBytes: 0 } };
}

function numberOf(config: ConfigJson, key: string, fallback: number): number {
  const value = config[key];
  return typeof value === 'number' ? value : fallback;
}

function perBlock(config: ConfigJson, key: string, fallback: number | readonly number[]): number | readonly number[] {
  const value = config[key];
  return typeof value === 'number' || (Array.isArray(value) && value.every((v) => typeof v === 'number')) ? (value as number | number[]) : fallback;
}

/** The planning estimates of a pipeline's three stages at an image size. */
export interface StageEstimates {
  text: number;
  unet: number;
  vae: number;
}

/** The activation estimates at `height` x `width` for `batch` images (doubled for guidance), from configs. */
export function stageEstimates(configs: { unet: ConfigJson; vae: ConfigJson; text?: ConfigJson }, batch: number, height: number, width: number, guidance: boolean): StageEstimates {
  const budget = attentionScoreBudget();
  const vaeChannels = perBlock(configs.vae, 'block_out_channels', AUTOENCODER_KL_DEFAULTS.blockOutChannels) as number[];
  const factor = 2 ** (vaeChannels.length - 1);
  const unetChannels = perBlock(configs.unet, 'block_out_channels', UNET_2D_CONDITION_DEFAULTS.blockOutChannels) as number[];
  const heads = perBlock(configs.unet, 'num_attention_heads', 0) || perBlock(configs.unet, 'attention_head_dim', UNET_2D_CONDITION_DEFAULTS.attentionHeadDim);
  const downTypes = Array.isArray(configs.unet.down_block_types) ? (configs.unet.down_block_types as string[]) : UNET_2D_CONDITION_DEFAULTS.downBlockTypes;
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
  const vae = estimateVaeDecodeBytes({ blockOutChannels: vaeChannels, latentChannels: numberOf(configs.vae, 'latent_channels', 4) }, 1, height, width, budget);
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

/** The components read from a folder, with the plan they were loaded under. */
export interface LoadedFolder {
  components: StableDiffusionComponents;
  plan: MemoryPlan;
  index: ModelIndex;
  /** The folder's own scheduler config (`scheduler/scheduler_config.json`). */
  schedulerConfig: ConfigJson;
}

/**
 * Loads a Stable Diffusion folder (local path or http(s) URL) for `task`: checks
 * `model_index.json`, reads every config and counts every weight file's bytes from its header,
 * checks that the components fit together and that the pipeline fits the current backend at the
 * UNet's default image size (one image with guidance), and only then loads the weights.
 */
export async function loadStableDiffusionFolder(
  location: string | PretrainedSource,
  task: PipelineTask,
  options: StableDiffusionFromPretrainedOptions,
  context: string,
): Promise<LoadedFolder> {
  const root = typeof location === 'string' ? openPretrained(location) : location;
  const index = await readModelIndex(root, context);
  const warn = options.onWarning ?? console.warn;
  if (index.skipped.length > 0) warn(`${context}: ${root.location}: not loading ${index.skipped.join(', ')} (not used for generation)`);
  const { components } = index;
  const unetPlan = await readComponentPlan(root, 'unet', WEIGHTS_NAME, options, context);
  const vaePlan = await readComponentPlan(root, 'vae', WEIGHTS_NAME, options, context);
  const textPlan = components.text_encoder ? await readComponentPlan(root, 'text_encoder', TRANSFORMERS_WEIGHTS_NAME, options, context) : undefined;
  const unetConfig = unetPlan.config;
  const latentChannels = numberOf(vaePlan.config, 'latent_channels', AUTOENCODER_KL_DEFAULTS.latentChannels);
  checkComponentShapes(
    {
      latentChannels,
      unetInChannels: numberOf(unetConfig, 'in_channels', UNET_2D_CONDITION_DEFAULTS.inChannels),
      unetOutChannels: numberOf(unetConfig, 'out_channels', UNET_2D_CONDITION_DEFAULTS.outChannels),
      crossAttentionDims: distinct(perBlock(unetConfig, 'cross_attention_dim', UNET_2D_CONDITION_DEFAULTS.crossAttentionDim)),
      textHiddenSize: textPlan ? numberOf(textPlan.config, 'hidden_size', CLIP_TEXT_DEFAULTS.hiddenSize) : undefined,
    },
    task,
    `${context}: ${root.location}`,
  );
  const vaeChannels = perBlock(vaePlan.config, 'block_out_channels', AUTOENCODER_KL_DEFAULTS.blockOutChannels) as number[];
  const sampleSize = perBlock(unetConfig, 'sample_size', 64);
  const [latentHeight, latentWidth] = typeof sampleSize === 'number' ? [sampleSize, sampleSize] : [sampleSize[0], sampleSize[1]];
  const factor = 2 ** (vaeChannels.length - 1);
  const estimates = stageEstimates({ unet: unetConfig, vae: vaePlan.config, text: textPlan?.config }, 1, latentHeight * factor, latentWidth * factor, true);
  unetPlan.row.activationBytes = estimates.unet;
  vaePlan.row.activationBytes = estimates.vae;
  if (textPlan) textPlan.row.activationBytes = estimates.text;
  const rows = [unetPlan.row, vaePlan.row, ...(textPlan ? [textPlan.row] : [])];
  const plan = planMemory(rows, await backendMemoryLimit(tf.getBackend()), options.residency ?? 'auto', `${context}: ${root.location}`);

  const modelOptions = { variant: options.variant, onWarning: warn };
  const scheduler = await loadScheduler(root, context);
  const loaded: StableDiffusionComponents = { scheduler: scheduler.scheduler } as StableDiffusionComponents;
  try {
    loaded.unet = await UNet2DConditionModel.fromPretrained(root, { ...modelOptions, subfolder: 'unet' });
    loaded.vae = await AutoencoderKL.fromPretrained(root, { ...modelOptions, subfolder: 'vae' });
    if (components.text_encoder) {
      const textClass = components.text_encoder.className === 'CLIPTextModelWithProjection' ? CLIPTextModelWithProjection : CLIPTextModel;
      loaded.textEncoder = (await textClass.fromPretrained(root, { ...modelOptions, subfolder: 'text_encoder' })) as PromptEncoder;
    }
    if (components.tokenizer) {
      const { tokenizer, files } = await loadClipTokenizer(root.subfolder('tokenizer'));
      loaded.tokenizer = tokenizer;
      loaded.tokenizerFiles = files;
    }
  } catch (error) {
    loaded.unet?.dispose();
    loaded.vae?.dispose();
    loaded.textEncoder?.dispose();
    throw error;
  }
  return { components: loaded, plan, index, schedulerConfig: scheduler.config };
}

async function loadScheduler(root: PretrainedSource, context: string): Promise<{ scheduler: Scheduler; config: ConfigJson }> {
  const folder = root.subfolder('scheduler');
  if (!(await folder.exists('scheduler_config.json'))) throw new Error(`${context}: ${root.location} has no scheduler/scheduler_config.json`);
  const config = await folder.readJson('scheduler_config.json');
  return { scheduler: schedulerFromConfig(config), config };
}

/**
 * Writes the components as a Diffusers folder: `model_index.json` (`pipelineClass`, each
 * component's library and class, the safety checker and feature extractor absent), then each
 * component's subfolder (configs and safetensors; the tokenizer's files as loaded). Node only.
 */
export async function saveStableDiffusionFolder(folder: string, pipelineClass: string, components: StableDiffusionComponents): Promise<void> {
  const { mkdir, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { vae, unet, scheduler, textEncoder, tokenizer, tokenizerFiles } = components;
  if (tokenizer !== undefined && (tokenizerFiles === undefined || Object.keys(tokenizerFiles).length === 0)) {
    throw new Error(`${pipelineClass}.save: the tokenizer's files are unknown (pass tokenizerFiles with the components, as fromPretrained does)`);
  }
  await mkdir(folder, { recursive: true });
  await unet.save(join(folder, 'unet'));
  await vae.save(join(folder, 'vae'));
  if (textEncoder) await textEncoder.save(join(folder, 'text_encoder'));
  if (tokenizer && tokenizerFiles) {
    await rm(join(folder, 'tokenizer'), { recursive: true, force: true });
    await mkdir(join(folder, 'tokenizer'), { recursive: true });
    const { writeFileAtomic } = await import('@diffusion-ts/core');
    for (const name of TOKENIZER_FILE_NAMES) {
      if (tokenizerFiles[name] !== undefined) await writeFileAtomic(join(folder, 'tokenizer', name), new TextEncoder().encode(tokenizerFiles[name]));
    }
  }
  await writeConfigFile(join(folder, 'scheduler', 'scheduler_config.json'), scheduler.toConfig());
  const index: ConfigJson = {
    _class_name: pipelineClass,
    _diffusers_version: DIFFUSERS_VERSION,
    feature_extractor: [null, null],
    image_encoder: [null, null],
    requires_safety_checker: false,
    safety_checker: [null, null],
    scheduler: ['diffusers', scheduler.className],
    text_encoder: textEncoder ? ['transformers', textEncoder.className] : [null, null],
    tokenizer: tokenizer ? ['transformers', 'CLIPTokenizer'] : [null, null],
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: ['diffusers', 'AutoencoderKL'],
  };
  await writeConfigFile(join(folder, 'model_index.json'), index);
}
