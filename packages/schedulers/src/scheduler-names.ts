/**
 * The short scheduler names users type (`--scheduler dpm++2m-karras` in the CLI, the pipelines'
 * `fromPretrained({ scheduler })`, the docs demo), each a Diffusers class plus the config keys
 * that make it that sampler. The one table of these names; `registry.ts` resolves them.
 */
import type { ConfigJson } from '@diffusion-ts/core';

/** What a short name stands for. */
export interface SchedulerPreset {
  /** The Diffusers class name (`_class_name`). */
  readonly className: string;
  /** Config keys (snake_case, as in `scheduler_config.json`) set over the loaded config. */
  readonly config: Readonly<ConfigJson>;
  /** The sampler's usual name, for menus and tables. */
  readonly label: string;
}

const preset = (className: string, label: string, config: ConfigJson = {}): SchedulerPreset =>
  Object.freeze({ className, label, config: Object.freeze(config) });

/** DPM-Solver++ without Karras sigmas, of the given order and algorithm. */
const dpmSolver = (label: string, order: number, algorithm: string, karras = false): SchedulerPreset =>
  preset('DPMSolverMultistepScheduler', label, { algorithm_type: algorithm, solver_order: order, use_karras_sigmas: karras });

/**
 * Short name -> Diffusers class and options, as the samplers are known in the Diffusers docs and
 * the web UIs (DPM++ 2M Karras, DPM++ 2M SDE, …). Lookups ignore case.
 */
export const SCHEDULER_NAMES: Readonly<Record<string, SchedulerPreset>> = Object.freeze({
  ddpm: preset('DDPMScheduler', 'DDPM'),
  ddim: preset('DDIMScheduler', 'DDIM'),
  pndm: preset('PNDMScheduler', 'PNDM'),
  euler: preset('EulerDiscreteScheduler', 'Euler'),
  'euler-a': preset('EulerAncestralDiscreteScheduler', 'Euler ancestral'),
  heun: preset('HeunDiscreteScheduler', 'Heun'),
  'dpm++2m': dpmSolver('DPM++ 2M', 2, 'dpmsolver++'),
  'dpm++2m-karras': dpmSolver('DPM++ 2M Karras', 2, 'dpmsolver++', true),
  'dpm++2m-sde': dpmSolver('DPM++ 2M SDE', 2, 'sde-dpmsolver++'),
  'dpm++3m': dpmSolver('DPM++ 3M', 3, 'dpmsolver++'),
  unipc: preset('UniPCMultistepScheduler', 'UniPC'),
  lcm: preset('LCMScheduler', 'LCM'),
  'flow-euler': preset('FlowMatchEulerDiscreteScheduler', 'Flow-matching Euler'),
});
