/**
 * The schema entries several schedulers share, each with its type and accepted range (checked by
 * core's `parseConfig` before anything is allocated; a `ConfigError` names the key and the range).
 * What spans several keys (`steps_offset` below `num_train_timesteps`, …) is checked by
 * `resolveConfig`.
 */
import type { ConfigFieldSpec, ConfigRange, ConfigSchema } from '@diffusion-ts/core';
import type { CommonOptions } from './scheduler.js';
import type { ThresholdOptions } from './thresholding.js';

/** The most training timesteps a config may ask for (Diffusers' configs use 1000; improved-diffusion 4000). */
export const MAX_TRAIN_TIMESTEPS = 1_000_000;

/** A β (or a schedule's end point) lies in the open interval (0, 1). */
const BETA_RANGE: ConfigRange = { min: 0, minExclusive: true, max: 1, maxExclusive: true };

/** Schema entry of `num_train_timesteps` (every scheduler's first key). */
export const NUM_TRAIN_TIMESTEPS_FIELD: ConfigFieldSpec = { kind: 'integer', range: { min: 1, max: MAX_TRAIN_TIMESTEPS } };

/** The options of the beta schedule, which lead every scheduler's config. */
type BetaConfigOptions = Pick<CommonOptions, 'numTrainTimesteps' | 'betaStart' | 'betaEnd' | 'betaSchedule' | 'trainedBetas'>;

/** Diffusers' defaults of the beta-schedule options (the same in every scheduler). */
export const BETA_CONFIG_DEFAULTS: Readonly<BetaConfigOptions> = Object.freeze({
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
  trainedBetas: null,
});

/** Schema entries of the beta-schedule options, in Diffusers' order (each scheduler's first keys). */
export const BETA_CONFIG_SCHEMA: ConfigSchema<BetaConfigOptions> = {
  numTrainTimesteps: NUM_TRAIN_TIMESTEPS_FIELD,
  betaStart: { kind: 'number', range: BETA_RANGE },
  betaEnd: { kind: 'number', range: BETA_RANGE },
  betaSchedule: { kind: 'string', values: ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'sigmoid', 'laplace', 'exp', 'geometric'] },
  trainedBetas: { kind: 'number[]', nullable: true, range: BETA_RANGE },
};

/** The thresholding options that Diffusers lists together (after `prediction_type`); `clipSample` stands apart. */
type ThresholdConfigOptions = Omit<ThresholdOptions, 'clipSample'>;

/** Diffusers' defaults of the thresholding options (DDPM and DDIM). */
export const THRESHOLD_CONFIG_DEFAULTS: Readonly<ThresholdConfigOptions> = Object.freeze({
  thresholding: false,
  dynamicThresholdingRatio: 0.995,
  clipSampleRange: 1.0,
  sampleMaxValue: 1.0,
});

/** Schema entries of the thresholding options, in Diffusers' order. */
export const THRESHOLD_CONFIG_SCHEMA: ConfigSchema<ThresholdConfigOptions> = {
  thresholding: { kind: 'boolean' },
  dynamicThresholdingRatio: { kind: 'number', range: { min: 0, minExclusive: true, max: 1 } },
  clipSampleRange: { kind: 'number', range: { min: 0, minExclusive: true } },
  sampleMaxValue: { kind: 'number', range: { min: 0, minExclusive: true } },
};

/** Schema entry of `timestep_spacing`. */
export const TIMESTEP_SPACING_FIELD: ConfigFieldSpec = { kind: 'string', values: ['leading', 'trailing', 'linspace'] };

/** Schema entry of `steps_offset` (its upper bound, `num_train_timesteps`, is checked by `resolveConfig`). */
export const STEPS_OFFSET_FIELD: ConfigFieldSpec = { kind: 'integer', range: { min: 0 } };

/** Schema entry of an optional σ bound (`sigma_min`, `sigma_max`): null, or a σ > 0. */
export const SIGMA_BOUND_FIELD: ConfigFieldSpec = { kind: 'number', nullable: true, range: { min: 0, minExclusive: true } };

/**
 * Schema entry of a flow-matching shift s (`shift`, `flow_shift`): σ → s σ / (1 + (s - 1) σ).
 * Diffusers' models use 1 to about 20; outside [0.001, 1000] the shifted σ degenerate in float32
 * (a shift that rounds to 0 gives NaN).
 */
export const SHIFT_FIELD: ConfigFieldSpec = { kind: 'number', range: { min: 0.001, max: 1000 } };
