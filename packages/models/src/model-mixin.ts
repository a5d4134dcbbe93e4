import type * as tf from '@tensorflow/tfjs-core';
import { serializeConfig, type ConfigJson, type PretrainedSource } from '@diffusion-ts/core';
import { parseModelConfig, type FromConfigOptions, type ModelFamily } from './model-config.js';
import { ParameterStore, type ParameterScope } from './parameters/parameter-store.js';
import { readPretrained, writePretrained, type FromPretrainedOptions } from './pretrained-io.js';
import { exportWeights, importWeights, type ExportedWeight, type ImportReport, type WeightTensor } from './weights.js';

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

  /** `seed` drives the random initialisation of every parameter created by `buildModules`. */
  protected constructor(family: ModelFamily<Options>, options: Options, seed: number, unknownConfig: ConfigJson) {
    this.family = family;
    this.config = Object.freeze({ ...options });
    this.unknownConfig = unknownConfig;
    this.store = new ParameterStore(seed);
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
   * Assigns Diffusers-named tensors (PyTorch layout) to the parameters. Throws a `WeightsError`
   * listing missing and mis-shaped names; returns the unused names.
   */
  loadWeights(tensors: Record<string, WeightTensor>, source?: string): ImportReport {
    return importWeights(this.store, tensors, source ?? this.family.className);
  }

  /** Every parameter as a float32 tensor in Diffusers' layout, keyed by Diffusers name. */
  exportWeights(): Promise<Record<string, ExportedWeight>> {
    return exportWeights(this.store);
  }

  /**
   * Writes `config.json` and the weights (`diffusion_pytorch_model.safetensors`) into `folder`
   * (created if needed; each file written atomically), loadable by Diffusers' `from_pretrained`.
   */
  async save(folder: string): Promise<void> {
    await writePretrained(folder, this.toConfig(), await this.exportWeights(), this.family.weightsName);
  }

  /** Frees every variable; the model cannot be used afterwards. */
  dispose(): void {
    this.store.dispose();
  }

  /** Parses and checks `config` for `family`, builds the model with `create` and records the config warnings. */
  protected static buildFromConfig<Options extends object, Model extends ModelMixin<Options>>(
    family: ModelFamily<Options>,
    config: ConfigJson | Partial<Options>,
    options: FromConfigOptions,
    create: (options: Options, seed: number, unknownConfig: ConfigJson) => Model,
  ): Model {
    const parsed = parseModelConfig(family, config);
    const model = create(parsed.options, options.seed ?? 0, parsed.unknown);
    model.recordWarnings(parsed.warnings, options.onWarning);
    return model;
  }

  /**
   * Reads a pretrained folder or URL, builds the model from its config with `fromConfig` and
   * assigns the weights; the model is disposed when they do not fit. Unused weights become warnings.
   */
  protected static async loadPretrained<Options extends object, Model extends ModelMixin<Options>>(
    family: ModelFamily<Options>,
    source: string | PretrainedSource,
    options: FromPretrainedOptions,
    fromConfig: (config: ConfigJson, options: FromConfigOptions) => Model,
  ): Promise<Model> {
    const files = await readPretrained(source, options, family.weightsName);
    const model = fromConfig(files.config, { onWarning: options.onWarning });
    try {
      const report = model.loadWeights(files.tensors, files.location);
      model.recordWarnings(
        report.unexpected.map((name) => `${files.location}: weight '${name}' is not used by ${family.className}`),
        options.onWarning,
      );
    } catch (error) {
      model.dispose();
      throw error;
    }
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
