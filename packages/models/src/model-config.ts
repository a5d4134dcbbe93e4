import {
  ConfigError,
  parseConfig,
  previewJson,
  truncateText,
  type ConfigJson,
  type ConfigSchema,
  type ParsedConfig,
} from '@diffusion-ts/core';
import { checkModelBudget, type ConfigSizeEstimate, type ModelBudget } from './budget/model-budget.js';
import type { WeightTensor } from './weights.js';

/**
 * How one model class reads and writes its `config.json`: Diffusers' class name, the typed
 * schema and defaults, and the cross-key checks the schema cannot express. Every model class
 * (the UNets, the VAE, the text encoders) has one.
 */
export interface ModelFamily<Options extends object> {
  /** Diffusers' (or transformers') class name, written as `_class_name` by Diffusers models. */
  className: string;
  schema: ConfigSchema<Options>;
  defaults: Options;
  /** Checks relations between options; returns the options to use (e.g. normalised). */
  validate: (options: Options) => Options;
  /** The weights file of a pretrained folder (default `diffusion_pytorch_model.safetensors`). */
  weightsName?: string;
  /**
   * Reads a config written in another library's layout (transformers' `config.json`); the
   * result is still checked by `validate`. Default: the schema and defaults, as Diffusers.
   */
  parse?: (config: ConfigJson | Partial<Options>) => ParsedConfig<Options>;
  /**
   * Runs on a checkpoint's tensors before they are assigned, and before the model is built when
   * loading a pretrained folder: drops tensors the model ignores (buffers) and throws a
   * `WeightsError` where the sizes they imply contradict `options`, naming the config key.
   */
  prepareWeights?: (tensors: Record<string, WeightTensor>, options: Options, source: string) => Record<string, WeightTensor>;
  /**
   * The size the checked options ask for, estimated from the layers without allocating anything;
   * `fromConfig` refuses a config beyond the budget before building. Throws a `ConfigError` for
   * a structure the layers cannot build.
   */
  estimateSize?: (options: Options) => ConfigSizeEstimate;
}

/** Options of `fromConfig`. */
export interface FromConfigOptions {
  /**
   * Seed of the random initialisation (default 0). `null` skips it: every parameter starts at
   * zero, which is much faster for large models whose weights are set afterwards or whose values
   * do not matter (timing).
   */
  seed?: number | null;
  /** Receives config warnings (unknown keys). Default: `console.warn`. */
  onWarning?: (message: string) => void;
  /**
   * The most parameters and activations the config may ask for (default `DEFAULT_MODEL_BUDGET`:
   * 3e9 parameters, 64 GiB of activations at `sample_size`); checked before anything is allocated.
   */
  budget?: Partial<ModelBudget>;
}

/**
 * Parses and checks a config (Diffusers' snake_case or our camelCase) for `family`, refusing one
 * whose `_class_name` names another model.
 */
export function parseModelConfig<Options extends object>(
  family: ModelFamily<Options>,
  config: ConfigJson | Partial<Options>,
): ParsedConfig<Options> {
  const parsed = family.parse ? family.parse(config) : parseConfig(config, family.schema, family.defaults, family.className);
  if (parsed.className !== undefined && parsed.className !== family.className) {
    throw new ConfigError(`${family.className}: the config is for '${truncateText(parsed.className)}'`, '_class_name');
  }
  return { ...parsed, options: family.validate(parsed.options) };
}

/**
 * Throws a `ConfigError` when the family estimates `options` beyond `budget` (default
 * `DEFAULT_MODEL_BUDGET`); families without an estimate are not checked.
 */
export function checkConfigBudget<Options extends object>(
  family: ModelFamily<Options>,
  options: Options,
  budget: Partial<ModelBudget> | undefined,
): void {
  if (!family.estimateSize) return;
  const { estimate, sampleSize, sizeKey } = family.estimateSize(options);
  checkModelBudget(estimate, budget, family.className, sampleSize, sizeKey);
}

/**
 * The same record with its keys in sorted order, which is Diffusers' order (the camelCase and
 * snake_case names sort alike here); `toConfig()` and `config` list their keys in this order.
 */
export function sortedByKey<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as T;
}

/** A thrower of `ConfigError`s that name the model and the snake_case key. */
export function configFailure(context: string): (key: string, message: string) => never {
  return (key, message) => {
    throw new ConfigError(`${context}: config key '${key}' ${message}`, key);
  };
}

/** The largest `sample_size` side a config may give (pixels or latents). */
export const MAX_SAMPLE_SIZE = 16384;

/** Checks a `sample_size` value (`null`, a positive integer up to `MAX_SAMPLE_SIZE` or [height, width] of them). */
export function checkSampleSize(value: unknown, context: string): number | [number, number] | null {
  if (value === null || value === undefined) return null;
  const isSide = (item: unknown): item is number =>
    typeof item === 'number' && Number.isInteger(item) && item > 0 && item <= MAX_SAMPLE_SIZE;
  if (isSide(value)) return value;
  if (Array.isArray(value) && value.length === 2 && value.every(isSide)) return [value[0], value[1]];
  throw new ConfigError(
    `${context}: config key 'sample_size' must be a positive integer up to ${MAX_SAMPLE_SIZE} or [height, width], got ${previewJson(value)}`,
    'sample_size',
  );
}
