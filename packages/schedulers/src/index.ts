/**
 * @diffusion-ts/schedulers: Diffusers' schedulers for TensorFlow.js, behind one `Scheduler`
 * interface, numerically identical to Diffusers; configs load from and save to
 * `scheduler_config.json`, and swap between compatible classes.
 */
export type {
  BetaScheduler,
  CommonOptions,
  NoiseGenerator,
  PredictionType,
  Scheduler,
  SchedulerConfig,
  SetTimestepsOptions,
  StepOptions,
  StepResult,
  TimestepsInput,
  VarianceType,
} from './scheduler.js';
export { PREDICTION_TYPES, VARIANCE_TYPES } from './scheduler.js';
export type { BetaSchedule, TimestepSpacing } from './schedule.js';
/** The geometric β schedule (our extension): its betas, e.g. to pass as Diffusers' `trained_betas`. */
export { geometricBetas } from './schedule.js';
export type { ThresholdOptions } from './thresholding.js';
export { DDPMScheduler, type DDPMOptions } from './ddpm.js';
export { DDIMScheduler, type DDIMOptions } from './ddim.js';
export { PNDMScheduler, type PNDMOptions } from './pndm.js';
export { EulerDiscreteScheduler, type EulerOptions } from './euler.js';
export { EulerAncestralDiscreteScheduler, type EulerAncestralOptions } from './euler-ancestral.js';
export { HeunDiscreteScheduler, type HeunOptions } from './heun.js';
export { LCMScheduler, type LCMOptions, type LCMSetTimestepsOptions } from './lcm.js';
export { FlowMatchEulerDiscreteScheduler, type FlowMatchEulerOptions } from './flow-match-euler.js';
export { DPMSolverMultistepScheduler, type DPMSolverAlgorithm, type DPMSolverMultistepOptions } from './dpm-solver-multistep.js';
export { UniPCMultistepScheduler, type UniPCMultistepOptions } from './unipc-multistep.js';
export type { MultistepOptions } from './multistep-config.js';
export type { SigmaSpacingFlags, TimeShiftType } from './sigmas.js';
/** Flow matching's resolution-dependent shift μ for `setTimesteps(n, { mu })` (Diffusers' `calculate_shift`). */
export { dynamicShiftMu } from './sigmas.js';
export {
  SCHEDULERS,
  compatibleSchedulers,
  resolveSchedulerName,
  schedulerClass,
  schedulerFromConfig,
  schedulerFromPretrained,
  type LoadSchedulerOptions,
  type SchedulerClass,
} from './registry.js';
export { SCHEDULER_NAMES, type SchedulerPreset } from './scheduler-names.js';
export { SCHEDULER_CONFIG_NAME, type SchedulerFromPretrainedOptions } from './scheduler-config-file.js';
/** Input checks of schedulers and losses (shared with `@diffusion-ts/losses` and custom schedulers). */
export { assertFinite, assertSameShape, assertTensor } from './input-checks.js';
/** Per-batch-item timesteps and coefficient gathers (shared with `@diffusion-ts/losses`). */
export { gatherPerItem, timestepTensor } from './per-item.js';
