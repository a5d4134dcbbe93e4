/**
 * Config resolution shared by the schedulers: options (camelCase) or a Diffusers
 * `scheduler_config.json` object (snake_case) parsed against a scheduler's schema, the checks
 * that span several keys, and the schedule constants the resolved config gives. Each field's
 * own type and range live in its schema entry; what is checked here is what one field cannot
 * say alone.
 */
import { ConfigError, parseConfig, toSnakeCase, type ConfigJson, type ConfigSchema } from '@diffusion-ts/core';
import { cumulativeProduct, makeAlphas, makeBetas, rescaleBetasZeroSnr, type BetaOptions, type BetaSchedule } from './schedule.js';
import type { CommonOptions, SchedulerConfig } from './scheduler.js';

/**
 * The Diffusers scheduler names whose configs our β-schedule schedulers accept
 * (`KarrasDiffusionSchedulers`, plus `LCMScheduler`, whose config is a DDPM-family one).
 */
export const DIFFUSERS_COMPATIBLE_NAMES: readonly string[] = [
  'DDIMScheduler',
  'DDPMScheduler',
  'PNDMScheduler',
  'LMSDiscreteScheduler',
  'EulerDiscreteScheduler',
  'HeunDiscreteScheduler',
  'EulerAncestralDiscreteScheduler',
  'DPMSolverMultistepScheduler',
  'DPMSolverSinglestepScheduler',
  'KDPM2DiscreteScheduler',
  'KDPM2AncestralDiscreteScheduler',
  'DEISMultistepScheduler',
  'UniPCMultistepScheduler',
  'DPMSolverSDEScheduler',
  'EDMEulerScheduler',
  'LCMScheduler',
];

/** The schedule constants of a config. */
export interface ScheduleArrays {
  betas: Float64Array;
  alphas: Float64Array;
  alphasCumprod: Float64Array;
}

/** The parsed config of one scheduler instance. */
export interface ResolvedConfig<T> {
  options: Readonly<T>;
  warnings: string[];
  unknown: ConfigJson;
}

/**
 * Parses options (camelCase) or a Diffusers config (snake_case) against a scheduler's schema
 * (types and ranges, before anything is allocated) and checks what spans several keys: the
 * `_class_name` (this class, or one of `compatibleNames`: by default the β-schedule
 * schedulers), `trainedBetas` against `numTrainTimesteps`, `stepsOffset` below
 * `numTrainTimesteps`, and the beta schedule this class implements (classes without β options,
 * such as flow matching, skip the β checks).
 */
export function resolveConfig<T extends SchedulerConfig>(
  input: unknown,
  schema: ConfigSchema<T>,
  defaults: T,
  className: string,
  allowedSchedules: readonly BetaSchedule[],
  compatibleNames: readonly string[] = DIFFUSERS_COMPATIBLE_NAMES,
): ResolvedConfig<T> {
  const source = normaliseArrays(input ?? {});
  const parsed = parseConfig(source, schema, defaults, className);
  if (parsed.className !== undefined && parsed.className !== className && !compatibleNames.includes(parsed.className)) {
    throw new ConfigError(
      `${className}: cannot build from a config of '${parsed.className}' (compatible: ${compatibleNames.join(', ')})`,
      '_class_name',
    );
  }
  const options = parsed.options;
  const total = options.numTrainTimesteps;
  const { stepsOffset, trainedBetas, betaSchedule } = options as Partial<CommonOptions>;
  if (stepsOffset !== undefined && stepsOffset >= total) {
    throw new ConfigError(
      `${className}: config key 'steps_offset' must lie in [0, num_train_timesteps) = [0, ${total}), got ${stepsOffset}`,
      'steps_offset',
    );
  }
  if (trainedBetas !== undefined && trainedBetas !== null) {
    if (trainedBetas.length !== total) {
      throw new ConfigError(
        `${className}: trainedBetas has ${trainedBetas.length} values but numTrainTimesteps is ${total}`,
        'trained_betas',
      );
    }
  } else if (betaSchedule !== undefined && !allowedSchedules.includes(betaSchedule)) {
    throw new ConfigError(
      `${className}: betaSchedule '${betaSchedule}' is not implemented for ${className} ` +
        `(expected one of ${allowedSchedules.join(', ')})`,
      'beta_schedule',
    );
  }
  // Keys of other (compatible) schedulers survive a round trip, written in snake_case.
  const unknown = Object.fromEntries(Object.entries(parsed.unknown).map(([key, value]) => [toSnakeCase(key), value]));
  return { options: Object.freeze({ ...options }), warnings: parsed.warnings, unknown };
}

/** Typed arrays become plain arrays so that the config parser accepts them. */
function normaliseArrays(input: unknown): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    out[key] = ArrayBuffer.isView(value) && !(value instanceof DataView) ? Array.from(value as Float64Array) : value;
  }
  return out;
}

/**
 * Builds β, α and ᾱ for a resolved config. Every β (as float32, before a zero-SNR rescale) must
 * lie in (0, 1), so that ᾱ is finite and decreasing; a `ConfigError` names the first that does not.
 */
export function scheduleArrays(options: BetaOptions, className: string): ScheduleArrays {
  const raw = makeBetas({ ...options, rescaleBetasZeroSnr: false });
  const bad = raw.findIndex((beta) => !(beta > 0 && beta < 1));
  if (bad >= 0) {
    const key = options.trainedBetas !== null ? 'trained_betas' : 'beta_schedule';
    const origin = options.trainedBetas !== null ? 'trained_betas (as float32)' : `the '${options.betaSchedule}' schedule`;
    throw new ConfigError(`${className}: betas must lie in (0, 1), but ${origin} gives betas[${bad}] = ${raw[bad]}`, key);
  }
  const betas = options.rescaleBetasZeroSnr ? rescaleBetasZeroSnr(raw) : raw;
  const alphas = makeAlphas(betas);
  return { betas, alphas, alphasCumprod: cumulativeProduct(alphas) };
}
