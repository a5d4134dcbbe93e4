import type * as tf from '@tensorflow/tfjs-core';
import { serializeConfig, type ConfigJson, type ParsedConfig, type PretrainedSource } from '@diffusion-ts/core';
import { checkConfigBudget, parseModelConfig, type FromConfigOptions, type ModelFamily } from './model-config.js';
import { ParameterStore, type ParameterScope } from './parameters/parameter-store.js';
import { CONFIG_NAME, pretrainedFolder, readPretrainedWeights, writePretrained, type FromPretrainedOptions } from './pretrained-io.js';
import { exportWeights, importWeights, type ExportedWeight, type ImportReport, type WeightTensor } from './weights.js';

/** Options of `ModelMixin.save`. */
export interface SaveOptions {
  /** Stored precision of the weights (default `float32`); loading widens `float16` / `bfloat16` back to float32. */
  dtype?: 'float32' | 'float16' | 'bfloat16';
}

const SAVE_DTYPES: Readonly<Record<string, 'F32' | 'F16' | 'BF16'>> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' };

/** How many unused weight names a load warning lists before it summarises the rest. */
const LISTED_UNUSED = 8;

/**
 * A model constructor as `buildFromConfig` and `loadPretrained` call it: `seed` null leaves every
 * parameter at zero, for weights about to be loaded.
 */
export type ModelFactory<Options extends object, Model> = (options: Options, seed: number | null, unknownConfig: ConfigJson) => Model;

/**
 * What every model shares (Diffusers' `ModelMixin` and `ConfigMixin`): the resolved config and its
 * `config.json`, the parameter store with Diffusers' names, weight import and export, `save`,
 * `dispose`, and the `fromConfig` / `fromPretrained` paths its subclasses expose.
 *
 * A subclass passes its `ModelFamily` to the constructor, builds its modules with
 * `buildModules`, and writes `fromConfig` and `fromPretrained` as one line each on top of
 * `buildFromConfig` and `loadPretrained`.
 */
export abstract class ModelMixin<Options extends object> {
  /** Dropout is active only while this is true (PyTorch's `train()` / `eval()`). */
  training = false;
  /** Warnings from loading: unknown config keys and unused weights. */
  readonly loadWarnings: string[] = [];
  /** The resolved options (camelCase). */
  readonly config: Readonly<Options>;
  /** The parameters, in Diffusers' module order. */
  protected readonly store: ParameterStore;
  private readonly family: ModelFamily<Options>;
  private readonly unknownConfig: ConfigJson;

  /**
   * `seed` drives the random initialisation of every parameter created by `buildModules`; `null`
   * skips it (the parameters start at zero), which `loadPretrained` uses: drawing the initial
   * values costs about as much as a forward pass per parameter and the file overwrites them all.
   */
  protected constructor(family: ModelFamily<Options>, options: Options, seed: number | null, unknownConfig: ConfigJson) {
    this.family = family;
    this.config = Object.freeze({ ...options });
    this.unknownConfig = unknownConfig;
    this.store = new ParameterStore(seed ?? 0, { initialize: seed !== null });
  }

  /** Diffusers' class name (`_class_name` of `config.json`). */
  get className(): string {
    return this.family.className;
  }

  /** Builds the modules in the root parameter scope; the parameters are freed if that throws. */
  protected buildModules<T>(build: (scope: ParameterScope) => T): T {
    try {
      return build(this.store.scope());
    } catch (error) {
      this.store.dispose();
      throw error;
    }
  }

  /** The Diffusers config: `_class_name`, `_diffusers_version`, then every key (sorted). */
  toConfig(): ConfigJson {
    return serializeConfig(this.config, this.family.schema, this.family.className, this.unknownConfig);
  }

  /** Every parameter as a trainable variable, in Diffusers' module order. */
  trainableVariables(): tf.Variable[] {
    return this.store.list().map((parameter) => parameter.variable);
  }

  /** The Diffusers names of the parameters, in the order of `trainableVariables()`. */
  parameterNames(): string[] {
    return this.store.list().map((parameter) => parameter.name);
  }

  /** The number of scalar parameters. */
  get parameterCount(): number {
    return this.store.size;
  }

  /**
   * Assigns Diffusers-named tensors (PyTorch layout; F32, F16 or BF16) to the parameters. Throws a
   * `WeightsError` listing missing and mis-shaped names (and with `strict` unused ones) before
   * assigning anything; returns the unused names.
   */
  loadWeights(tensors: Record<string, WeightTensor>, source?: string, strict = false): ImportReport {
    const name = source ?? this.family.className;
    const prepared = this.family.prepareWeights ? this.family.prepareWeights(tensors, this.config, name) : tensors;
    return importWeights(this.store, prepared, name, strict);
  }

  /** Every parameter as a float32 tensor in Diffusers' layout, keyed by Diffusers name. */
  exportWeights(): Promise<Record<string, ExportedWeight>> {
    return exportWeights(this.store);
  }

  /**
   * Writes `config.json` and the weights (`diffusion_pytorch_model.safetensors`, or the family's
   * `weightsName`) into `folder`
   * (created if needed; each file written atomically), loadable by Diffusers' `from_pretrained`.
   * `dtype: 'float16'` or `'bfloat16'` stores the weights at half the size (rounded to nearest even;
   * `fromPretrained` widens them back to float32), as Diffusers' `model.half().save_pretrained()`.
   */
  async save(folder: string, options: SaveOptions = {}): Promise<void> {
    const stored = SAVE_DTYPES[options.dtype ?? 'float32'];
    if (stored === undefined) throw new RangeError(`save: dtype must be float32, float16 or bfloat16, got ${String(options.dtype)}`);
    const weights = await this.exportWeights();
    const tensors = Object.fromEntries(Object.entries(weights).map(([name, weight]) => [name, { ...weight, dtype: stored }]));
    await writePretrained(folder, this.toConfig(), tensors, this.family.weightsName);
  }

  /** Frees every variable; the model cannot be used afterwards. */
  dispose(): void {
    this.store.dispose();
  }

  /**
   * Parses and checks `config` for `family`, refuses it when the family's size estimate exceeds
   * `options.budget` (before anything is allocated), builds the model with `create` and records
   * the config warnings.
   */
  protected static buildFromConfig<Options extends object, Model extends ModelMixin<Options>>(
    family: ModelFamily<Options>,
    config: ConfigJson | Partial<Options>,
    options: FromConfigOptions,
    create: ModelFactory<Options, Model>,
  ): Model {
    const parsed = parseModelConfig(family, config);
    checkConfigBudget(family, parsed.options, options.budget);
    return ModelMixin.build(parsed, options.seed === null ? null : (options.seed ?? 0), create, options.onWarning);
  }

  /**
   * Reads a pretrained folder or URL: its `config.json` first, parsed and checked against the
   * budget (so a config that is malformed or too large is refused before the weights are
   * fetched); then the weights (one file or shards, of `variant` or, with a warning, the plain
   * files), within the load limits, checked against the config (the family's `prepareWeights`);
   * then builds the model with `create` without drawing initial
   * values and assigns the weights; the model is disposed when they do not fit. Unused weights
   * become one warning (an error with `strict`).
   */
  protected static async loadPretrained<Options extends object, Model extends ModelMixin<Options>>(
    family: ModelFamily<Options>,
    source: string | PretrainedSource,
    options: FromPretrainedOptions,
    create: ModelFactory<Options, Model>,
  ): Promise<Model> {
    const folder = pretrainedFolder(source, options);
    const parsed = parseModelConfig(family, await folder.readJson(CONFIG_NAME));
    checkConfigBudget(family, parsed.options, options.budget);
    const fileWarnings: string[] = [];
    const weights = await readPretrainedWeights(folder, family.weightsName, options.variant, (message) => fileWarnings.push(message));
    const tensors = family.prepareWeights ? family.prepareWeights(weights, parsed.options, folder.location) : weights;
    const model = ModelMixin.build(parsed, null, create, options.onWarning);
    model.recordWarnings(fileWarnings, options.onWarning);
    try {
      const { unexpected } = importWeights(model.store, tensors, folder.location, options.strict);
      if (unexpected.length > 0)
        model.recordWarnings([unusedWeightsWarning(folder.location, family.className, unexpected)], options.onWarning);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  private static build<Options extends object, Model extends ModelMixin<Options>>(
    parsed: ParsedConfig<Options>,
    seed: number | null,
    create: ModelFactory<Options, Model>,
    onWarning: ((message: string) => void) | undefined,
  ): Model {
    const model = create(parsed.options, seed, parsed.unknown);
    model.recordWarnings(parsed.warnings, onWarning);
    return model;
  }

  /** Keeps `warnings` in `loadWarnings` and passes each to `onWarning` (default `console.warn`). */
  protected recordWarnings(warnings: string[], onWarning: ((message: string) => void) | undefined): void {
    for (const warning of warnings) {
      this.loadWarnings.push(warning);
      (onWarning ?? console.warn)(warning);
    }
  }
}

/** One warning for the weights a checkpoint holds and the model does not use (a vision tower can hold hundreds). */
function unusedWeightsWarning(location: string, className: string, names: string[]): string {
  if (names.length === 1) return `${location}: weight '${names[0]}' is not used by ${className}`;
  const listed = names
    .slice(0, LISTED_UNUSED)
    .map((name) => `'${name}'`)
    .join(', ');
  const more = names.length > LISTED_UNUSED ? ` and ${names.length - LISTED_UNUSED} more` : '';
  return `${location}: ${names.length} weights are not used by ${className}: ${listed}${more}`;
}
