/**
 * Diffusers pipeline folders: `model_index.json` naming the components, `unet/` and `scheduler/`.
 * Reading works on local folders (Node) and http(s) URLs (anywhere); writing is Node only. The
 * scheduler loads and saves itself (`@diffusion-ts/schedulers`).
 */
import { DIFFUSERS_VERSION, openPretrained, writeConfigFile, type ConfigJson, type PretrainedSource } from '@diffusion-ts/core';
import { SCHEDULER_CONFIG_NAME, schedulerFromPretrained, type Scheduler } from '@diffusion-ts/schedulers';

/** Options of the pipelines' `fromPretrained`. */
export interface PipelineFromPretrainedOptions {
  /**
   * Load the scheduler config into this scheduler instead: a short name of the schedulers'
   * `SCHEDULER_NAMES` (`ddim`, `dpm++2m-karras`, …) or a class name (`DDIMScheduler`).
   */
  scheduler?: string;
  /** Receives config warnings (default `console.warn`). */
  onWarning?: (message: string) => void;
}

/** The opened folder, its `model_index.json` and its scheduler. */
export interface OpenedPipeline {
  source: PretrainedSource;
  index: ConfigJson;
  scheduler: Scheduler;
}

/** Opens a pipeline folder (local path or http(s) URL) and builds its scheduler. */
export async function openPipelineFolder(folder: string, options: PipelineFromPretrainedOptions = {}): Promise<OpenedPipeline> {
  const source = openPretrained(folder);
  if (!(await source.exists('model_index.json'))) {
    throw new Error(`${folder} is not a pipeline folder: model_index.json is missing (expected model_index.json, unet/, scheduler/)`);
  }
  const index = await source.readJson('model_index.json');
  for (const component of ['unet', 'scheduler']) {
    if (!(component in index)) throw new Error(`${folder}/model_index.json does not list a '${component}' component`);
  }
  if (!(await source.subfolder('scheduler').exists(SCHEDULER_CONFIG_NAME))) {
    throw new Error(`${folder}: scheduler/${SCHEDULER_CONFIG_NAME} is missing`);
  }
  const scheduler = await schedulerFromPretrained(source, { subfolder: 'scheduler', scheduler: options.scheduler });
  // Keys of the folder's own scheduler are expected to be unused by an override to another class.
  const declared = Array.isArray(index.scheduler) ? index.scheduler[1] : undefined;
  if (options.scheduler === undefined || scheduler.className === declared) {
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
  await scheduler.save(join(folder, 'scheduler'));
  return join(folder, 'unet');
}
