/**
 * How pipelines load and save their scheduler component: `scheduler/scheduler_config.json`,
 * loaded into the folder's class or into the one the caller names (a short name of the
 * schedulers' `SCHEDULER_NAMES`, such as `dpm++2m-karras`, or a class name).
 */
import type { PretrainedSource } from '@diffusion-ts/core';
import { SCHEDULER_CONFIG_NAME, SCHEDULERS, schedulerFromConfig, type Scheduler } from '@diffusion-ts/schedulers';
import type { ComponentLoader } from './component-loader.js';

/**
 * Loads a pipeline's `scheduler/` folder into `name` (a short name or class name; default the
 * folder's own class). Unknown config keys are reported only for the folder's own class: another
 * class is expected to leave some unused.
 */
async function loadScheduler(
  source: PretrainedSource,
  name: string,
  onWarning: ((message: string) => void) | undefined,
): Promise<Scheduler> {
  if (!(await source.exists(SCHEDULER_CONFIG_NAME))) throw new Error(`${source.location}: ${SCHEDULER_CONFIG_NAME} is missing`);
  const config = await source.readJson(SCHEDULER_CONFIG_NAME);
  const scheduler = schedulerFromConfig(config, name);
  if (scheduler.className === config._class_name) {
    for (const warning of scheduler.configWarnings) (onWarning ?? console.warn)(`${source.location}: ${warning}`);
  }
  return scheduler;
}

/** The loader of every scheduler class. */
const SCHEDULER_LOADER: ComponentLoader<Scheduler> = {
  library: 'diffusers',
  load: (source, { className, requestedName, onWarning }) => loadScheduler(source, requestedName ?? className, onWarning),
  save: (scheduler, folder) => scheduler.save(folder),
};

/** A loader for each scheduler class of the schedulers package, by Diffusers class name. */
export const SCHEDULER_LOADERS: Readonly<Record<string, ComponentLoader<Scheduler>>> = Object.freeze(
  Object.fromEntries(Object.keys(SCHEDULERS).map((className) => [className, SCHEDULER_LOADER])),
);

/** What a pipeline class expects of its `scheduler` component: any scheduler class. */
export const SCHEDULER_COMPONENT = { classes: Object.keys(SCHEDULERS) } as const;
