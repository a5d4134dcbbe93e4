/**
 * Component loaders: how a pipeline loads and saves each class of component that
 * `model_index.json` can name, keyed by class name. Pipelines start from `COMPONENT_LOADERS`;
 * another package adds its classes (a tokenizer, a text encoder) by passing more loaders to
 * `fromPretrained` or by extending a pipeline class's `componentLoaders`.
 */
import type { PretrainedSource } from '@diffusion-ts/core';
import type { ModelBudget, SaveOptions } from '@diffusion-ts/models';

/** A pipeline component: a model, a scheduler, a tokenizer… */
export interface PipelineComponent {
  /** The class name `model_index.json` records (Diffusers' or Transformers'). */
  readonly className: string;
  /** Frees what the component holds; called by the pipeline's `dispose`. */
  dispose?(): void;
}

/** What a loader is told besides the component's folder. */
export interface ComponentLoadOptions {
  /** The class to load (named by `model_index.json`, or by the caller instead). */
  className: string;
  /**
   * The name the caller gave instead of the folder's class, when it is more than a class name (a
   * scheduler short name such as `dpm++2m-karras`: a class with options).
   */
  requestedName?: string;
  /** Receives load warnings (default `console.warn`). */
  onWarning?: (message: string) => void;
  /** The most parameters and activations a model's config may ask for (models' `fromPretrained` option). */
  budget?: Partial<ModelBudget>;
  /** A weights variant such as `fp16` (`diffusion_pytorch_model.fp16.safetensors`), for model components. */
  variant?: string;
}

/** Loads and saves one class of component in its subfolder of a pipeline folder. */
export interface ComponentLoader<T extends PipelineComponent = PipelineComponent> {
  /** The library `model_index.json` names for the class: `diffusers` or `transformers`. */
  readonly library: string;
  /** Loads the component from its subfolder (`unet/`, `scheduler/`, …). */
  load(source: PretrainedSource, options: ComponentLoadOptions): Promise<T>;
  /** Writes the component into its subfolder (Node only); models store their weights in `options.dtype`. */
  save(component: T, folder: string, options?: ComponentSaveOptions): Promise<void>;
}

/** Options of a component loader's `save` (components without weights ignore them). */
export interface ComponentSaveOptions {
  /** Stored precision of model weights (default `float32`), as `ModelMixin.save` takes it. */
  dtype?: SaveOptions['dtype'];
}

/** Component loaders by class name. */
export type ComponentLoaders = Readonly<Record<string, ComponentLoader>>;

/** A model class with Diffusers' `fromPretrained` (a folder holding `config.json` and its weights). */
export interface PretrainedModelClass<T extends PipelineComponent & { save(folder: string, options?: SaveOptions): Promise<void> }> {
  fromPretrained(source: PretrainedSource, options: Pick<ComponentLoadOptions, 'onWarning' | 'budget' | 'variant'>): Promise<T>;
}

/** The loader of a model class: its own `fromPretrained` and `save`. */
export function modelLoader<T extends PipelineComponent & { save(folder: string, options?: SaveOptions): Promise<void> }>(
  modelClass: PretrainedModelClass<T>,
  library = 'diffusers',
): ComponentLoader<T> {
  return {
    library,
    load: (source, { onWarning, budget, variant }) => modelClass.fromPretrained(source, { onWarning, budget, variant }),
    save: (model, folder, options) => model.save(folder, { dtype: options?.dtype }),
  };
}
