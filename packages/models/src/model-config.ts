import { ConfigError, parseConfig, type ConfigJson, type ConfigSchema, type ParsedConfig } from '@diffusion-ts/core';

/**
 * How one model class reads and writes its `config.json`: Diffusers' class name, the typed
 * schema and defaults, and the cross-key checks the schema cannot express. Every model class
 * (the UNets, and the VAE and text encoder to come) has one.
 */
export interface ModelFamily<Options extends object> {
  /** Diffusers' class name, written as `_class_name`. */
  className: string;
  schema: ConfigSchema<Options>;
  defaults: Options;
  /** Checks relations between options; returns the options to use (e.g. normalised). */
  validate: (options: Options) => Options;
  /** The weights file of a pretrained folder (default `diffusion_pytorch_model.safetensors`). */
  weightsName?: string;
}

/** Options of `fromConfig`. */
export interface FromConfigOptions {
  /** Seed of the random initialisation (default 0). */
  seed?: number;
  /** Receives config warnings (unknown keys). Default: `console.warn`. */
  onWarning?: (message: string) => void;
}

/**
 * Parses and checks a config (Diffusers' snake_case or our camelCase) for `family`, refusing one
 * whose `_class_name` names another model.
 */
export function parseModelConfig<Options extends object>(family: ModelFamily<Options>, config: ConfigJson | Partial<Options>): ParsedConfig<Options> {
  const parsed = parseConfig(config, family.schema, family.defaults, family.className);
  if (parsed.className !== undefined && parsed.className !== family.className) {
    throw new ConfigError(`${family.className}: the config is for '${parsed.className}'`, '_class_name');
  }
  return { ...parsed, options: family.validate(parsed.options) };
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
