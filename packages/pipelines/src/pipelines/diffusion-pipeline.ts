/**
 * The base of every pipeline (Diffusers' `DiffusionPipeline`): its components, `fromPretrained`
 * from a Diffusers pipeline folder, `save` to one, and `dispose`.
 */
import { openPretrained, splitLoadOptions, toCamelCase, type LoadOptions, type PretrainedSource } from '@diffusion-ts/core';
import type { ModelBudget } from '@diffusion-ts/models';
import { resolveSchedulerName } from '@diffusion-ts/schedulers';
import type { ComponentLoaders, ComponentSaveOptions, PipelineComponent } from './component-loader.js';
import { COMPONENT_LOADERS } from './component-registry.js';
import { loadComponents, saveComponents, type ComponentSpecs, type LoadComponentsRequest } from './pipeline-folder.js';

/**
 * Options of the pipelines' `fromPretrained`: the scheduler, warnings, more loaders, the models'
 * size budget and the load limits of every file read (timeout, sizes, redirects, `signal`; used
 * when the source is given as a string).
 */
export interface PipelineFromPretrainedOptions extends LoadOptions {
  /** Load the folder's scheduler config into this scheduler instead: a short name of the schedulers' `SCHEDULER_NAMES` (`ddim`, `dpm++2m-karras`, …) or a class name (`DDIMScheduler`). */
  scheduler?: string;
  /** Receives load warnings (default `console.warn`). */
  onWarning?: (message: string) => void;
  /** The most parameters and activations a model component's config may ask for (default `DEFAULT_MODEL_BUDGET`). */
  budget?: Partial<ModelBudget>;
  /** Loaders for more component classes, by class name (added to the pipeline class's own). */
  loaders?: ComponentLoaders;
  /** Weights variant of the model components, e.g. `fp16` (`diffusion_pytorch_model.fp16.safetensors`); the plain files where a component has none. */
  variant?: string;
}

/** Options of the pipelines' `save`. */
export interface PipelineSaveOptions extends ComponentSaveOptions {
  /** Loaders for more component classes, by class name (added to the pipeline class's own). */
  loaders?: ComponentLoaders;
}

/**
 * `fromPretrained`'s options for a pipeline built from `Components`: the options above, plus any
 * component (or other constructor option, such as `nullClass`) to use as given instead of
 * loading it, as Diffusers' `from_pretrained(folder, unet=…)`.
 */
export type FromPretrainedOptionsOf<Components> = PipelineFromPretrainedOptions &
  Omit<Partial<Components>, keyof PipelineFromPretrainedOptions>;

/** A concrete pipeline class: its constructor, the components it expects and their loaders. */
export interface PipelineClass<Pipeline, Components> {
  new (components: Components): Pipeline;
  readonly name: string;
  readonly expectedComponents: ComponentSpecs;
  readonly componentLoaders: ComponentLoaders;
}

/** A pipeline folder opened for `fromPretrained`: the source, the request for its components, and the components given instead. */
export interface PipelineFolderRequest {
  /** The folder, opened with the load limits when given as a string. */
  root: PretrainedSource;
  request: LoadComponentsRequest;
  /** The keys of the options that are not load options: components (and other constructor options) used as given. */
  given: Record<string, unknown>;
}

/**
 * Splits `fromPretrained`'s options: the load limits open the folder (they go to every file read),
 * the pipeline options make the request for the components of `pipelineClass`, and every other key
 * is a component given by the caller.
 */
export function folderRequest<Components>(
  pipelineClass: Pick<PipelineClass<unknown, Components>, 'name' | 'expectedComponents' | 'componentLoaders'>,
  source: string | PretrainedSource,
  options: FromPretrainedOptionsOf<Components>,
): PipelineFolderRequest {
  const [limits, rest] = splitLoadOptions(options);
  const { scheduler, onWarning, loaders, budget, variant, ...given } = rest;
  const root = typeof source === 'string' ? openPretrained(source, limits) : source;
  const request: LoadComponentsRequest = {
    pipeline: pipelineClass.name,
    expected: pipelineClass.expectedComponents,
    loaders: { ...pipelineClass.componentLoaders, ...loaders },
    given,
    classOverrides: { scheduler: scheduler === undefined ? undefined : resolveSchedulerName(scheduler).className },
    requestedNames: { scheduler },
    onWarning,
    budget,
    variant,
  };
  return { root, request, given };
}

/**
 * A pipeline: components (models, a scheduler, …) and a `generate` that runs the denoising loop.
 * A subclass lists its components in `expectedComponents` (by their `model_index.json` name,
 * with the classes each accepts) and declares them as fields (`declare readonly unet: UNet2DModel`);
 * the constructor stores each given component under its camelCase name, so that
 * `new Pipeline({ unet, scheduler })`, `Pipeline.fromPretrained(folder)`, `save` and `dispose`
 * work without more code. Swapping `pipeline.scheduler` for another scheduler is allowed.
 */
export abstract class DiffusionPipeline<Components extends object = Record<string, unknown>> {
  /** The components by `model_index.json` name, with the classes each accepts. */
  static readonly expectedComponents: ComponentSpecs = {};
  /** The loaders of the component classes this pipeline can load and save. */
  static readonly componentLoaders: ComponentLoaders = COMPONENT_LOADERS;

  /** Stores each component (and other constructor option) as a field of the same name. */
  constructor(components: Components) {
    Object.assign(this, components);
  }

  /** The `_class_name` written to `model_index.json`: the Diffusers pipeline class that loads the folder. */
  protected get diffusersClassName(): string {
    return 'DiffusionPipeline';
  }

  /** The components by `model_index.json` name (`undefined` for an absent optional one). */
  get components(): Readonly<Record<string, PipelineComponent | undefined>> {
    const fields = this as unknown as Record<string, PipelineComponent | undefined>;
    const names = Object.keys((this.constructor as typeof DiffusionPipeline).expectedComponents);
    return Object.fromEntries(names.map((name) => [name, fields[toCamelCase(name)]]));
  }

  /**
   * Loads a Diffusers pipeline folder (local path or http(s) URL): `model_index.json` names each
   * component's class, loaded from its subfolder by the class's loader; components given in
   * `options` are used as they are. The scheduler comes from `scheduler/scheduler_config.json`,
   * loaded into `options.scheduler` when it names another class. Errors name the missing or
   * unknown component before any weights are read.
   */
  static async fromPretrained<Pipeline, PipelineComponents>(
    this: PipelineClass<Pipeline, PipelineComponents>,
    source: string | PretrainedSource,
    options?: FromPretrainedOptionsOf<PipelineComponents>,
  ): Promise<Pipeline> {
    const { root, request, given } = folderRequest(this, source, options ?? ({} as FromPretrainedOptionsOf<PipelineComponents>));
    const loaded = await loadComponents(root, request);
    return new this({ ...given, ...loaded } as PipelineComponents);
  }

  /**
   * Writes the pipeline in Diffusers' layout: `model_index.json` and one subfolder per component,
   * each saved by its class's loader (`options.loaders` adds loaders, as in `fromPretrained`);
   * `options.dtype` stores the models' weights in `float16` or `bfloat16` (half the size; loading
   * widens them back to float32).
   */
  async save(folder: string, options: PipelineSaveOptions = {}): Promise<void> {
    const loaders = { ...(this.constructor as typeof DiffusionPipeline).componentLoaders, ...options.loaders };
    await saveComponents(folder, this.diffusersClassName, this.components, loaders, { dtype: options.dtype });
  }

  /** Frees every component (the models' weights, the scheduler's state); the pipeline cannot be used afterwards. */
  dispose(): void {
    for (const component of new Set(Object.values(this.components))) component?.dispose?.();
  }
}
