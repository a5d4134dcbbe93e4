/**
 * Scheduler lookup by Diffusers `_class_name`, so that a `scheduler_config.json` builds the
 * right class and any config can be swapped to a compatible scheduler.
 */
import { ConfigError, type ConfigJson } from '@diffusion-ts/core';
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
import { UniPCMultistepScheduler } from './unipc-multistep.js';

/** A scheduler class: built from options or a Diffusers config. */
export interface SchedulerClass {
  readonly className: string;
  readonly compatibles: readonly string[];
  fromConfig(config: ConfigJson): Scheduler;
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

/** The class registered under `className`; throws a clear error for unknown names. */
export function schedulerClass(className: string): SchedulerClass {
  const found = Object.prototype.hasOwnProperty.call(SCHEDULERS, className) ? SCHEDULERS[className] : undefined;
  if (found === undefined) {
    throw new ConfigError(
      `unknown scheduler _class_name '${className}' (available: ${Object.keys(SCHEDULERS).join(', ')})`,
      '_class_name',
    );
  }
  return found;
}

/**
 * Builds the scheduler named by the config's `_class_name` (or by `className`, which wins, to
 * load a config into another compatible scheduler).
 */
export function schedulerFromConfig(config: ConfigJson, className?: string): Scheduler {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new ConfigError('schedulerFromConfig: expected a config object');
  }
  const name = className ?? config._class_name;
  if (typeof name !== 'string') {
    throw new ConfigError("schedulerFromConfig: the config has no '_class_name' (pass a className)", '_class_name');
  }
  return schedulerClass(name).fromConfig(config);
}

/** The registered classes that can be built from a config of `className`. */
export function compatibleSchedulers(className: string): SchedulerClass[] {
  return schedulerClass(className).compatibles.filter((name) => name in SCHEDULERS).map((name) => SCHEDULERS[name]);
}
