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
export { denoiseAtSigma } from './sigma-scheduler.js';
export { EulerDiscreteScheduler, EULER_DEFAULTS, EULER_SCHEMA, type EulerOptions } from './euler.js';
export {
  EulerAncestralDiscreteScheduler,
  EULER_ANCESTRAL_DEFAULTS,
  EULER_ANCESTRAL_SCHEMA,
  type EulerAncestralOptions,
} from './euler-ancestral.js';
export { HeunDiscreteScheduler, HEUN_DEFAULTS, HEUN_SCHEMA, type HeunOptions } from './heun.js';
export { LCMScheduler, LCM_DEFAULTS, LCM_SCHEMA, lcmScalings, type LCMOptions, type LCMSetTimestepsOptions } from './lcm.js';
export {
  FlowMatchEulerDiscreteScheduler,
  FLOW_MATCH_EULER_DEFAULTS,
  FLOW_MATCH_EULER_SCHEMA,
  type FlowMatchEulerOptions,
} from './flow-match-euler.js';
export {
  DPMSolverMultistepScheduler,
  DPM_SOLVER_MULTISTEP_DEFAULTS,
  DPM_SOLVER_MULTISTEP_SCHEMA,
  type DPMSolverAlgorithm,
  type DPMSolverMultistepOptions,
} from './dpm-solver-multistep.js';
export { UniPCMultistepScheduler, UNIPC_MULTISTEP_DEFAULTS, UNIPC_MULTISTEP_SCHEMA, type UniPCMultistepOptions } from './unipc-multistep.js';
export { MultistepScheduler } from './multistep.js';
export type { MultistepOptions } from './multistep-config.js';
export {
  SCHEDULERS,
  compatibleSchedulers,
  schedulerClass,
  schedulerFromConfig,
  type SchedulerClass,
} from './registry.js';
