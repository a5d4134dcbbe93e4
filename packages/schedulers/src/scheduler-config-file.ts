/**
 * `scheduler_config.json` in a model folder or behind a URL (Diffusers' `SchedulerMixin`
 * `from_pretrained` / `save_pretrained`). Reading works on local folders (Node) and http(s)
 * URLs (anywhere); writing is Node only and atomic.
 */
import { openPretrained, writeConfigFile, type ConfigJson, type LoadOptions, type PretrainedSource } from '@diffusion-ts/core';

/** The file name Diffusers gives a scheduler's config. */
export const SCHEDULER_CONFIG_NAME = 'scheduler_config.json';

/**
 * Options of `fromPretrained`: a subfolder and the load limits (timeout, size, redirects,
 * `signal`; used when the source is given as a string).
 */
export interface SchedulerFromPretrainedOptions extends LoadOptions {
  /** The folder below the source that holds `scheduler_config.json` (a pipeline's `scheduler`). */
  subfolder?: string;
}

/** Reads `scheduler_config.json` from a folder or URL (optionally a subfolder). */
export async function readSchedulerConfig(
  source: string | PretrainedSource,
  options: SchedulerFromPretrainedOptions = {},
): Promise<ConfigJson> {
  let root = typeof source === 'string' ? openPretrained(source, options) : source;
  if (options.subfolder) root = root.subfolder(options.subfolder);
  return root.readJson(SCHEDULER_CONFIG_NAME);
}

/**
 * Writes `config` as `folder/scheduler_config.json`, creating the folder; the previous file
 * stays intact until the new one is complete. Node only (its modules are imported lazily).
 */
export async function writeSchedulerConfig(folder: string, config: ConfigJson): Promise<void> {
  const nodePath = await import('node:path');
  await writeConfigFile(nodePath.join(folder, SCHEDULER_CONFIG_NAME), config);
}
