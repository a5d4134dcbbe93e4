/**
 * What every scheduler class shares as Diffusers' `ConfigMixin` / `SchedulerMixin` do: the
 * resolved config (and the keys of other schedulers it carries), `toConfig`, and loading and
 * saving `scheduler_config.json` (`fromConfig`, `fromPretrained`, `save`). The β-schedule
 * schedulers build on it through `DiscreteScheduler`; flow matching uses it directly.
 */
import { serializeConfig, type ConfigJson, type ConfigSchema, type PretrainedSource } from '@diffusion-ts/core';
import type { BetaSchedule } from './schedule.js';
import { DIFFUSERS_COMPATIBLE_NAMES, resolveConfig } from './scheduler-config.js';
import { readSchedulerConfig, writeSchedulerConfig, type SchedulerFromPretrainedOptions } from './scheduler-config-file.js';
import type { SchedulerConfig } from './scheduler.js';

/** The config side of a scheduler class: options in, `scheduler_config.json` out. */
export abstract class ConfiguredScheduler<T extends SchedulerConfig> {
  abstract readonly className: string;
  /** The resolved options, camelCase. */
  readonly config: Readonly<T>;
  /** Warnings from reading the config (unknown keys). */
  readonly configWarnings: readonly string[];
  private readonly schema: ConfigSchema<T>;
  private readonly extraConfig: ConfigJson;

  /**
   * Resolves `input` (camelCase options or a Diffusers config) against `schema` (see
   * `resolveConfig`); `compatibleNames` lists the `_class_name`s whose configs this class reads.
   */
  protected constructor(
    input: unknown,
    schema: ConfigSchema<T>,
    defaults: T,
    className: string,
    allowedSchedules: readonly BetaSchedule[],
    compatibleNames: readonly string[] = DIFFUSERS_COMPATIBLE_NAMES,
  ) {
    const resolved = resolveConfig(input, schema, defaults, className, allowedSchedules, compatibleNames);
    this.schema = schema;
    this.config = resolved.options;
    this.configWarnings = resolved.warnings;
    this.extraConfig = resolved.unknown;
  }

  /**
   * Builds this scheduler from a Diffusers `scheduler_config.json` object (or our options). A
   * config of another compatible scheduler works too (`DDIMScheduler.fromConfig(ddpm.toConfig())`).
   */
  static fromConfig<S, O>(this: new (options: O) => S, config: ConfigJson | O): S {
    return new this(config as O);
  }

  /**
   * Loads `scheduler_config.json` from a folder or http(s) URL (`{ subfolder: 'scheduler' }` for a
   * pipeline folder) into this scheduler, as Diffusers' `from_pretrained`.
   */
  static async fromPretrained<S, O>(
    this: new (options: O) => S,
    source: string | PretrainedSource,
    options: SchedulerFromPretrainedOptions = {},
  ): Promise<S> {
    return new this((await readSchedulerConfig(source, options)) as O);
  }

  /** Writes `folder/scheduler_config.json` (atomically; Node only), as Diffusers' `save_pretrained`. */
  save(folder: string): Promise<void> {
    return writeSchedulerConfig(folder, this.toConfig());
  }

  /** The config as Diffusers writes it; keys of compatible schedulers read by `fromConfig` are kept. */
  toConfig(): ConfigJson {
    return serializeConfig(this.config, this.schema, this.className, this.extraConfig);
  }

  /** Nothing to free by default. */
  dispose(): void {}
}
