/**
 * The config of the multistep solvers (DPM-Solver++, UniPC): the options and schema entries they
 * share, Diffusers' value aliases, and the checks both make.
 */
import { ConfigError, toCamelCase, type ConfigSchema } from '@diffusion-ts/core';
import {
  BETA_CONFIG_DEFAULTS,
  BETA_CONFIG_SCHEMA,
  SHIFT_FIELD,
  STEPS_OFFSET_FIELD,
  THRESHOLD_CONFIG_SCHEMA,
  TIMESTEP_SPACING_FIELD,
} from './config-fields.js';
import type { BetaSchedule } from './schedule.js';
import { PREDICTION_TYPES, type CommonOptions } from './scheduler.js';
import { sigmaSpacingOf } from './sigmas.js';

/** The options DPM-Solver and UniPC share (Diffusers' constructor arguments, camelCase). */
export interface MultistepOptions extends CommonOptions {
  solverOrder: number;
  thresholding: boolean;
  dynamicThresholdingRatio: number;
  sampleMaxValue: number;
  lowerOrderFinal: boolean;
  useKarrasSigmas: boolean;
  useExponentialSigmas: boolean;
  useBetaSigmas: boolean;
  /** Flow-matching σ (not supported here: `true` is refused). */
  useFlowSigmas: boolean;
  flowShift: number;
  /** The σ after the last step: 0, or σ of training timestep 0. */
  finalSigmasType: 'zero' | 'sigma_min';
  rescaleBetasZeroSnr: boolean;
  /** Flow matching only (refused when `true`). */
  useDynamicShifting: boolean;
  timeShiftType: 'exponential' | 'linear';
}

/** The beta schedules both solvers accept (Diffusers' three, plus our geometric one). */
export const MULTISTEP_SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'geometric'];

/** Diffusers' defaults of the shared options (the same in both classes). */
export const MULTISTEP_DEFAULTS: Readonly<MultistepOptions> = Object.freeze({
  ...BETA_CONFIG_DEFAULTS,
  solverOrder: 2,
  predictionType: 'epsilon',
  thresholding: false,
  dynamicThresholdingRatio: 0.995,
  sampleMaxValue: 1.0,
  lowerOrderFinal: true,
  useKarrasSigmas: false,
  useExponentialSigmas: false,
  useBetaSigmas: false,
  useFlowSigmas: false,
  flowShift: 1.0,
  finalSigmasType: 'zero',
  timestepSpacing: 'linspace',
  stepsOffset: 0,
  rescaleBetasZeroSnr: false,
  useDynamicShifting: false,
  timeShiftType: 'exponential',
});

/** The first config keys of both classes, in Diffusers' order (the β schedule, then these). */
export const MULTISTEP_LEADING_SCHEMA = {
  ...BETA_CONFIG_SCHEMA,
  solverOrder: { kind: 'integer', range: { min: 1, max: 3 } },
  predictionType: { kind: 'string', values: PREDICTION_TYPES },
  thresholding: THRESHOLD_CONFIG_SCHEMA.thresholding,
  dynamicThresholdingRatio: THRESHOLD_CONFIG_SCHEMA.dynamicThresholdingRatio,
  sampleMaxValue: THRESHOLD_CONFIG_SCHEMA.sampleMaxValue,
} as const satisfies Partial<ConfigSchema<MultistepOptions>>;

/** Schema entries of the other shared keys (each class lists them in Diffusers' order). */
export const MULTISTEP_FIELDS = {
  lowerOrderFinal: { kind: 'boolean' },
  useKarrasSigmas: { kind: 'boolean' },
  useExponentialSigmas: { kind: 'boolean' },
  useBetaSigmas: { kind: 'boolean' },
  useFlowSigmas: { kind: 'boolean' },
  flowShift: SHIFT_FIELD,
  finalSigmasType: { kind: 'string', values: ['zero', 'sigma_min'] },
  timestepSpacing: TIMESTEP_SPACING_FIELD,
  stepsOffset: STEPS_OFFSET_FIELD,
  rescaleBetasZeroSnr: { kind: 'boolean' },
  useDynamicShifting: { kind: 'boolean' },
  timeShiftType: { kind: 'string', values: ['exponential', 'linear'] },
} as const satisfies Partial<ConfigSchema<MultistepOptions>>;

/**
 * A copy of a config input with Diffusers' value aliases replaced (as its constructors do with
 * `register_to_config`), under either spelling of `key` (snake_case or camelCase).
 */
export function replaceAliases(input: unknown, key: string, aliases: Readonly<Record<string, unknown>>): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  const out: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const name of [key, toCamelCase(key)]) {
    const value = out[name];
    if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(aliases, value)) out[name] = aliases[value];
  }
  return out;
}

/**
 * Throws a `ConfigError` for what both solvers leave to flow matching and for more than one σ
 * spacing (the schema has checked the order, 1-3).
 */
export function checkMultistepOptions(options: MultistepOptions, className: string): void {
  if (options.useFlowSigmas)
    throw new ConfigError(
      `${className}: useFlowSigmas is not supported (use FlowMatchEulerDiscreteScheduler for flow-matching models)`,
      'use_flow_sigmas',
    );
  if (options.useDynamicShifting)
    throw new ConfigError(`${className}: useDynamicShifting needs flow sigmas, which are not supported`, 'use_dynamic_shifting');
  sigmaSpacingOf(options, className);
}
