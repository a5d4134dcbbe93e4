import type * as tf from '@tensorflow/tfjs-core';
import { ConfigError, parseConfig, type ConfigJson, type ConfigSchema, type ParsedConfig, type PretrainedSource } from '@diffusion-ts/core';
import type { ParameterStore } from './parameters/parameter-store.js';
import { exportWeights, importWeights, type ExportedWeight, type ImportReport, type WeightTensor } from './weights.js';
import { readPretrained, writePretrained, type FromPretrainedOptions } from './pretrained-io.js';

/**
 * What every model of this package shares: the parameter store, weight import and export, saving
 * in Diffusers' layout, loading from a pretrained folder, the variable list and disposal.
 */
export abstract class ModelBase {
  /** Dropout is active only while this is true (PyTorch's `train()` / `eval()`). */
  training = false;
  /** Warnings from loading: unknown config keys and unused weights. */
  readonly loadWarnings: string[] = [];
  /** Diffusers' (or transformers') class name, as `model_index.json` records it. */
  abstract readonly className: string;

  protected constructor(protected readonly store: ParameterStore) {}

  /** The Diffusers config (snake_case keys, `_class_name` first). */
  abstract toConfig(): ConfigJson;

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
   * listing missing and mis-shaped names (and with `strict` unused ones); returns the unused names.
   */
  loadWeights(tensors: Record<string, WeightTensor>, source?: string, strict = false): ImportReport {
    return importWeights(this.store, tensors, source ?? this.constructor.name, strict);
  }

  /** Every parameter as a float32 tensor in Diffusers' layout, keyed by Diffusers name. */
  exportWeights(): Promise<Record<string, ExportedWeight>> {
    return exportWeights(this.store);
  }

  /**
   * Writes `config.json` and `diffusion_pytorch_model.safetensors` into `folder` (created if
   * needed; each file written atomically), loadable by Diffusers' `from_pretrained`.
   */
  async save(folder: string): Promise<void> {
    await writePretrained(folder, this.toConfig(), await this.exportWeights());
  }

  /** Frees every variable; the model cannot be used afterwards. */
  dispose(): void {
    this.store.dispose();
  }

  /** Parses a config for `className`, refusing one whose `_class_name` names another model. */
  protected static parseModelConfig<T extends object>(
    config: ConfigJson | Partial<T>,
    schema: ConfigSchema<T>,
    defaults: T,
    className: string,
  ): ParsedConfig<T> {
    const parsed = parseConfig(config, schema, defaults, className);
    if (parsed.className !== undefined && parsed.className !== className) {
      throw new ConfigError(`${className}: the config is for '${parsed.className}'`, '_class_name');
    }
    return parsed;
  }

  /**
   * Reads a pretrained folder or URL, builds the model from its config with `build` and assigns
   * the weights; the model is disposed when they do not fit. Unused weights become warnings.
   */
  protected static async loadPretrained<M extends ModelBase>(
    source: string | PretrainedSource,
    options: FromPretrainedOptions,
    className: string,
    build: (config: ConfigJson, onWarning: FromPretrainedOptions['onWarning']) => M,
  ): Promise<M> {
    const files = await readPretrained(source, options);
    const model = build(files.config, options.onWarning);
    try {
      const report = model.loadWeights(files.tensors, files.location, options.strict);
      model.recordWarnings(
        report.unexpected.map((name) => `${files.location}: weight '${name}' is not used by ${className}`),
        options.onWarning,
      );
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  protected recordWarnings(warnings: string[], onWarning: ((message: string) => void) | undefined): void {
    for (const warning of warnings) {
      this.loadWarnings.push(warning);
      (onWarning ?? console.warn)(warning);
    }
  }
}
