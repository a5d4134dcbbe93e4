/**
 * Diffusers pipeline folders: `model_index.json` naming the components, `unet/` and `scheduler/`.
 * Reading works on local folders (Node) and http(s) URLs (anywhere); writing is Node only.
 */
import { DIFFUSERS_VERSION, openPretrained, writeConfigFile, type ConfigJson, type LoadOptions, type PretrainedSource } from '@diffusion-ts/core';
import type { ModelBudget } from '@diffusion-ts/models';
import { schedulerFromConfig, type Scheduler } from '@diffusion-ts/schedulers';

/** The scheduler names the CLI and `fromPretrained` accept, by short name. */
export const SCHEDULER_NAMES: Readonly<Record<string, string>> = Object.freeze({
  ddpm: 'DDPMScheduler',
  ddim: 'DDIMScheduler',
  pndm: 'PNDMScheduler',
});

/**
 * Options of the pipelines' `fromPretrained`: the scheduler, warnings, the models' size budget and
 * the load limits of every file read (timeout, sizes, redirects, `signal`).
 */
export interface PipelineFromPretrainedOptions extends LoadOptions {
  /** Load the scheduler config into this scheduler instead (`ddim`, `DDIMScheduler`, …). */
  scheduler?: string;
  /** Receives config warnings (default `console.warn`). */
  onWarning?: (message: string) => void;
  /** The most parameters and activations a component's config may ask for (default `DEFAULT_MODEL_BUDGET`). */
  budget?: Partial<ModelBudget>;
}

/** Resolves a short (`ddim`) or Diffusers (`DDIMScheduler`) scheduler name; throws for unknown names. */
export function schedulerClassName(name: string): string {
  const resolved = SCHEDULER_NAMES[name.toLowerCase()] ?? (Object.values(SCHEDULER_NAMES).includes(name) ? name : undefined);
  if (resolved === undefined) {
    throw new Error(`unknown scheduler '${name}' (expected one of ${Object.keys(SCHEDULER_NAMES).join(', ')} or ${Object.values(SCHEDULER_NAMES).join(', ')})`);
  }
  return resolved;
}

/** The opened folder, its `model_index.json` and its scheduler. */
export interface OpenedPipeline {
  source: PretrainedSource;
  index: ConfigJson;
  scheduler: Scheduler;
}

/** Opens a pipeline folder (local path or http(s) URL) and builds its scheduler. */
export async function openPipelineFolder(folder: string, options: PipelineFromPretrainedOptions = {}): Promise<OpenedPipeline> {
  const source = openPretrained(folder, options);
  if (!(await source.exists('model_index.json'))) {
    throw new Error(`${folder} is not a pipeline folder: model_index.json is missing (expected model_index.json, unet/, scheduler/)`);
  }
  const index = await source.readJson('model_index.json');
  for (const component of ['unet', 'scheduler']) {
    if (!(component in index)) throw new Error(`${folder}/model_index.json does not list a '${component}' component`);
  }
  const schedulerSource = source.subfolder('scheduler');
  if (!(await schedulerSource.exists('scheduler_config.json'))) throw new Error(`${folder}: scheduler/scheduler_config.json is missing`);
  const schedulerConfig = await schedulerSource.readJson('scheduler_config.json');
  const className = options.scheduler === undefined ? undefined : schedulerClassName(options.scheduler);
  const scheduler = schedulerFromConfig(schedulerConfig, className);
  // Keys of the folder's own scheduler are expected to be unused by an override.
  if (className === undefined || className === schedulerConfig._class_name) {
    for (const warning of scheduler.configWarnings) (options.onWarning ?? console.warn)(`${folder}/scheduler: ${warning}`);
  }
  return { source, index, scheduler };
}

/**
 * Writes `model_index.json` and `scheduler/scheduler_config.json` (Node only); the caller saves
 * the UNet into `unet/`. Node modules are imported lazily so that browser bundles never load them.
 */
export async function writePipelineFolder(folder: string, pipelineClass: string, unetClass: string, scheduler: Scheduler): Promise<string> {
  const { mkdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(folder, { recursive: true });
  const index: ConfigJson = {
    _class_name: pipelineClass,
    _diffusers_version: DIFFUSERS_VERSION,
    scheduler: ['diffusers', scheduler.className],
    unet: ['diffusers', unetClass],
  };
  await writeConfigFile(join(folder, 'model_index.json'), index);
  await writeConfigFile(join(folder, 'scheduler', 'scheduler_config.json'), scheduler.toConfig());
  return join(folder, 'unet');
}
