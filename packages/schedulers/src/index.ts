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
  type CommonOptions,
  type NoiseGenerator,
  type PredictionType,
  type Scheduler,
  type StepOptions,
  type StepResult,
  type TimestepsInput,
} from './scheduler.js';
export { dynamicThreshold, type ThresholdOptions } from './thresholding.js';
export { DDPMScheduler, DDPM_DEFAULTS, DDPM_SCHEMA, type DDPMOptions, type VarianceType } from './ddpm.js';
