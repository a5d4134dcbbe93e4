/**
 * @diffusion-ts/schedulers: Diffusers' schedulers for TensorFlow.js, behind one `Scheduler`
 * interface, numerically identical to Diffusers; configs load from and save to
 * `scheduler_config.json`, and swap between compatible classes.
 */
export type {
  CommonOptions,
  NoiseGenerator,
  PredictionType,
  Scheduler,
  StepOptions,
  StepResult,
  TimestepsInput,
  VarianceType,
} from './scheduler.js';
export { PREDICTION_TYPES, VARIANCE_TYPES } from './scheduler.js';
export type { BetaSchedule, TimestepSpacing } from './schedule.js';
export type { ThresholdOptions } from './thresholding.js';
export { DDPMScheduler, type DDPMOptions } from './ddpm.js';
export { DDIMScheduler, type DDIMOptions } from './ddim.js';
export { PNDMScheduler, type PNDMOptions } from './pndm.js';
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
