export {
  torchLinspaceFloat32,
  geometricBetas,
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
  type BetaScheduler,
  type CommonOptions,
  type NoiseGenerator,
  type PredictionType,
  type Scheduler,
  type SchedulerConfig,
  type SetTimestepsOptions,
  type StepOptions,
  type StepResult,
  type TimestepsInput,
} from './scheduler.js';
export { DiscreteScheduler } from './discrete-scheduler.js';
export {
  alphaSigmaOf,
  betaSigmas,
  customSigmaSchedule,
  discreteSigmaSchedule,
  dynamicShiftMu,
  exponentialSigmas,
  initNoiseSigmaFor,
  karrasSigmas,
  lambdaOf,
  logSigmas,
  respaceSigmas,
  shiftSigma,
  sigmaAtTimestep,
  sigmaSchedulerTimesteps,
  sigmaSpacingOf,
  sigmasFromAlphasCumprod,
  sigmaToTimestep,
  stretchToTerminal,
  timeShift,
  type DiscreteSigmaOptions,
  type SigmaSchedule,
  type SigmaSpacing,
  type SigmaSpacingFlags,
  type TimeShiftType,
} from './sigmas.js';
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
