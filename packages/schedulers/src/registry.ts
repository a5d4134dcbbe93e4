/**
 * Scheduler lookup by Diffusers `_class_name` or short name, so that a `scheduler_config.json`
 * builds the right class, any config can be swapped to a compatible scheduler, and a model
 * folder's scheduler loads in one call.
 */
import { ConfigError, truncateText, type ConfigJson, type PretrainedSource } from '@diffusion-ts/core';
import { DDIMScheduler } from './ddim.js';
import { DDPMScheduler } from './ddpm.js';
import { DPMSolverMultistepScheduler } from './dpm-solver-multistep.js';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral.js';
import { EulerDiscreteScheduler } from './euler.js';
import { FlowMatchEulerDiscreteScheduler } from './flow-match-euler.js';
import { HeunDiscreteScheduler } from './heun.js';
import { LCMScheduler } from './lcm.js';
import { PNDMScheduler } from './pndm.js';
import type { Scheduler } from './scheduler.js';
import { DIFFUSERS_COMPATIBLE_NAMES } from './scheduler-config.js';
import { readSchedulerConfig, type SchedulerFromPretrainedOptions } from './scheduler-config-file.js';
import { SCHEDULER_NAMES, type SchedulerPreset } from './scheduler-names.js';
import { UniPCMultistepScheduler } from './unipc-multistep.js';

/** A scheduler class: built from options, a Diffusers config, or a folder / URL holding one. */
export interface SchedulerClass {
  readonly className: string;
  readonly compatibles: readonly string[];
  fromConfig(config: ConfigJson): Scheduler;
  fromPretrained(source: string | PretrainedSource, options?: SchedulerFromPretrainedOptions): Promise<Scheduler>;
}

/** Every scheduler this package implements, by Diffusers class name. */
export const SCHEDULERS: Readonly<Record<string, SchedulerClass>> = Object.freeze({
  DDPMScheduler,
  DDIMScheduler,
  PNDMScheduler,
  EulerDiscreteScheduler,
  EulerAncestralDiscreteScheduler,
  HeunDiscreteScheduler,
  LCMScheduler,
  FlowMatchEulerDiscreteScheduler,
  DPMSolverMultistepScheduler,
  UniPCMultistepScheduler,
});

const has = (table: object, key: string): boolean => Object.prototype.hasOwnProperty.call(table, key);

/** The class names the short names stand for. */
const namedClasses = (): string[] => [...new Set(Object.values(SCHEDULER_NAMES).map((entry) => entry.className))];

/** Diffusers scheduler classes we know by name, implemented here or not (yet). */
const knownClasses = (): string[] => [...new Set([...namedClasses(), ...DIFFUSERS_COMPATIBLE_NAMES])];

/** The class registered under `className`; a clear `ConfigError` for unknown or unimplemented names. */
export function schedulerClass(className: string): SchedulerClass {
  if (has(SCHEDULERS, className)) return SCHEDULERS[className];
  const implemented = Object.keys(SCHEDULERS).join(', ');
  if (knownClasses().includes(className)) {
    throw new ConfigError(
      `${className} is not implemented by this version of @diffusion-ts/schedulers (implemented: ${implemented})`,
      '_class_name',
    );
  }
  throw new ConfigError(`unknown scheduler _class_name '${truncateText(className)}' (available: ${implemented})`, '_class_name');
}

/**
 * What a scheduler name stands for: a short name of `SCHEDULER_NAMES` (any case: `ddim`,
 * `dpm++2m-karras`) or a Diffusers class name (`DDIMScheduler`). Throws a `ConfigError` for
 * unknown names, and for names whose class this version does not implement, naming it.
 */
export function resolveSchedulerName(name: string): SchedulerPreset {
  const short = typeof name === 'string' ? name.toLowerCase() : '';
  let found: SchedulerPreset | undefined;
  if (has(SCHEDULER_NAMES, short)) found = SCHEDULER_NAMES[short];
  else if (has(SCHEDULERS, name) || knownClasses().includes(name)) {
    const label = Object.values(SCHEDULER_NAMES).find((entry) => entry.className === name)?.label ?? name;
    found = { className: name, config: {}, label };
  }
  if (found === undefined) {
    throw new ConfigError(
      `unknown scheduler '${truncateText(String(name))}' (expected one of ${Object.keys(SCHEDULER_NAMES).join(', ')}, ` +
        `or a class name: ${namedClasses().join(', ')})`,
      '_class_name',
    );
  }
  if (!has(SCHEDULERS, found.className)) {
    throw new ConfigError(
      `scheduler '${name}' needs ${found.className}, which this version of @diffusion-ts/schedulers does not implement ` +
        `(implemented: ${Object.keys(SCHEDULERS).join(', ')})`,
      '_class_name',
    );
  }
  return found;
}

/**
 * Builds the scheduler named by the config's `_class_name`, or by `name` (a short or class name,
 * which wins: the config is loaded into that scheduler, with the short name's options set over it).
 */
export function schedulerFromConfig(config: ConfigJson, name?: string): Scheduler {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new ConfigError('schedulerFromConfig: expected a config object');
  }
  if (name !== undefined) {
    const preset = resolveSchedulerName(name);
    return schedulerClass(preset.className).fromConfig({ ...config, ...preset.config });
  }
  const className = config._class_name;
  if (typeof className !== 'string') {
    throw new ConfigError("schedulerFromConfig: the config has no '_class_name' (pass a className)", '_class_name');
  }
  return schedulerClass(className).fromConfig(config);
}

/** Options of `schedulerFromPretrained`. */
export interface LoadSchedulerOptions extends SchedulerFromPretrainedOptions {
  /** Load the config into this scheduler instead of its `_class_name` (a short or class name). */
  scheduler?: string;
}

/**
 * Loads `scheduler_config.json` from a folder or http(s) URL (`{ subfolder: 'scheduler' }` for a
 * pipeline folder) and builds the class its `_class_name` names, or `options.scheduler`.
 */
export async function schedulerFromPretrained(source: string | PretrainedSource, options: LoadSchedulerOptions = {}): Promise<Scheduler> {
  // Resolve the name first: an unknown one fails before anything is read.
  if (options.scheduler !== undefined) resolveSchedulerName(options.scheduler);
  return schedulerFromConfig(await readSchedulerConfig(source, options), options.scheduler);
}

/** The registered classes that can be built from a config of `className`. */
export function compatibleSchedulers(className: string): SchedulerClass[] {
  return schedulerClass(className)
    .compatibles.filter((name) => has(SCHEDULERS, name))
    .map((name) => SCHEDULERS[name]);
}
