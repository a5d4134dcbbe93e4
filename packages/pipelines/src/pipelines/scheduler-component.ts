/**
 * How pipelines name, load and save their scheduler component: the one place that knows the
 * short names and the `scheduler/scheduler_config.json` file.
 */
import { writeConfigFile, type PretrainedSource } from '@diffusion-ts/core';
import { SCHEDULERS, schedulerFromConfig, type Scheduler } from '@diffusion-ts/schedulers';
import type { ComponentLoader } from './component-loader.js';

/** The scheduler names the CLI and `fromPretrained` accept, by short name. */
export const SCHEDULER_NAMES: Readonly<Record<string, string>> = Object.freeze({
  ddpm: 'DDPMScheduler',
  ddim: 'DDIMScheduler',
  pndm: 'PNDMScheduler',
  euler: 'EulerDiscreteScheduler',
  'euler-a': 'EulerAncestralDiscreteScheduler',
  heun: 'HeunDiscreteScheduler',
  'dpm++': 'DPMSolverMultistepScheduler',
  unipc: 'UniPCMultistepScheduler',
  lcm: 'LCMScheduler',
});

/** Resolves a short (`ddim`) or Diffusers (`DDIMScheduler`) scheduler name; throws for unknown names. */
export function schedulerClassName(name: string): string {
  const resolved = SCHEDULER_NAMES[name.toLowerCase()] ?? (Object.values(SCHEDULER_NAMES).includes(name) ? name : undefined);
  if (resolved === undefined) {
    throw new Error(`unknown scheduler '${name}' (expected one of ${Object.keys(SCHEDULER_NAMES).join(', ')} or ${Object.values(SCHEDULER_NAMES).join(', ')})`);
  }
  return resolved;
}

const CONFIG_FILE = 'scheduler_config.json';

/**
 * Loads a pipeline's `scheduler/` folder into a scheduler of `className` (the folder's own class,
 * or another one to load its config into). Unknown config keys are reported only for the
 * folder's own class: another class is expected to leave some unused.
 */
async function loadScheduler(source: PretrainedSource, className: string, onWarning: ((message: string) => void) | undefined): Promise<Scheduler> {
  if (!(await source.exists(CONFIG_FILE))) throw new Error(`${source.location}: ${CONFIG_FILE} is missing`);
  const config = await source.readJson(CONFIG_FILE);
  const scheduler = schedulerFromConfig(config, className);
  if (className === config._class_name) {
    for (const warning of scheduler.configWarnings) (onWarning ?? console.warn)(`${source.location}: ${warning}`);
  }
  return scheduler;
}

/** Writes `scheduler_config.json` into `folder` (Node only). */
async function saveScheduler(scheduler: Scheduler, folder: string): Promise<void> {
  const { join } = await import('node:path');
  await writeConfigFile(join(folder, CONFIG_FILE), scheduler.toConfig());
}

/** The loader of every scheduler class. */
const SCHEDULER_LOADER: ComponentLoader<Scheduler> = {
  library: 'diffusers',
  load: (source, { className, onWarning }) => loadScheduler(source, className, onWarning),
  save: saveScheduler,
};

/** A loader for each scheduler class of the schedulers package, by Diffusers class name. */
export const SCHEDULER_LOADERS: Readonly<Record<string, ComponentLoader<Scheduler>>> = Object.freeze(
  Object.fromEntries(Object.keys(SCHEDULERS).map((className) => [className, SCHEDULER_LOADER])),
);

/** What a pipeline class expects of its `scheduler` component: any scheduler class. */
export const SCHEDULER_COMPONENT = { classes: Object.keys(SCHEDULERS) } as const;
