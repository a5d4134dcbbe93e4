export {
  torchLinspaceFloat32,
  makeBetas,
  makeAlphas,
  cumulativeProduct,
  rescaleBetasZeroSnr,
  finalAlphaCumprod,
  roundHalfToEven,
  spacedTimestepsAscending,
  type BetaOptions,
  type BetaSchedule,
  type SpacingOptions,
  type TimestepSpacing,
} from './schedule.js';
export {
  DIFFUSERS_COMPATIBLE_NAMES,
  type CommonOptions,
  type NoiseGenerator,
  type PredictionType,
  type Scheduler,
  type StepOptions,
  type StepResult,
  type TimestepsInput,
} from './scheduler.js';
export { DiscreteScheduler } from './discrete-scheduler.js';
export { dynamicThreshold, type ThresholdOptions } from './thresholding.js';
export { DDPMScheduler, DDPM_DEFAULTS, DDPM_SCHEMA, type DDPMOptions, type VarianceType } from './ddpm.js';
export { DDIMScheduler, DDIM_DEFAULTS, DDIM_SCHEMA, type DDIMOptions } from './ddim.js';
export { PNDMScheduler, PNDM_DEFAULTS, PNDM_SCHEMA, type PNDMOptions } from './pndm.js';
export {
  SCHEDULERS,
  compatibleSchedulers,
  schedulerClass,
  schedulerFromConfig,
  type SchedulerClass,
} from './registry.js';
