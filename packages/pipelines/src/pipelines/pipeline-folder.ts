/**
 * Diffusers pipeline folders: `model_index.json` naming each component's library and class, and
 * one subfolder per component (`unet/`, `scheduler/`, …). Reading works on local folders (Node)
 * and http(s) URLs (anywhere); writing is Node only (imported lazily, so browser bundles never
 * load Node modules).
 */
import { DIFFUSERS_VERSION, toCamelCase, writeConfigFile, type ConfigJson, type PretrainedSource } from '@diffusion-ts/core';
import type { ComponentLoaders, ComponentLoadOptions, ComponentSaveOptions, PipelineComponent } from './component-loader.js';

/** The file naming a pipeline's components. */
export const MODEL_INDEX_NAME = 'model_index.json';

/** What a pipeline class expects of one component. */
export interface ComponentSpec {
  /** The classes it accepts (default: any class that has a loader). */
  readonly classes?: readonly string[];
  /** May be absent, or `[null, null]`, in `model_index.json` (Diffusers' optional components). */
  readonly optional?: boolean;
}

/** A pipeline's components by their `model_index.json` (snake_case) name. */
export type ComponentSpecs = Readonly<Record<string, ComponentSpec>>;

/** How to load the components of one pipeline folder. */
export interface LoadComponentsRequest {
  /** The pipeline class, for messages. */
  pipeline: string;
  expected: ComponentSpecs;
  loaders: ComponentLoaders;
  /** Components given by the caller, by camelCase name: these are not loaded. */
  given: Readonly<Record<string, unknown>>;
  /** Classes to load instead of the ones `model_index.json` names, by component name. */
  classOverrides: Readonly<Record<string, string | undefined>>;
  /** The names the caller gave for those overrides (e.g. a scheduler short name), by component name. */
  requestedNames?: Readonly<Record<string, string | undefined>>;
  onWarning?: (message: string) => void;
  /** The size budget of the model components' configs. */
  budget?: ComponentLoadOptions['budget'];
  /** The weights variant the model components are read in (`fp16`). */
  variant?: string;
}

/** One component to load: its names, its class and its loader. */
export interface PlannedComponent {
  name: string;
  key: string;
  className: string;
}

/** The `[library, class]` entry of a component, `null` for an absent one; throws on a malformed entry. */
function indexEntry(index: ConfigJson, name: string, location: string): [string, string] | null {
  const entry = index[name];
  if (entry === undefined || (Array.isArray(entry) && entry.length === 2 && entry[0] === null && entry[1] === null)) return null;
  if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') {
    throw new Error(`${location}/${MODEL_INDEX_NAME}: component '${name}' must be [library, class], got ${JSON.stringify(entry)}`);
  }
  return [entry[0], entry[1]];
}

/** Reads `model_index.json` and checks every component against `request` before anything is loaded. */
export async function planComponents(root: PretrainedSource, request: LoadComponentsRequest): Promise<PlannedComponent[]> {
  const names = Object.keys(request.expected).sort();
  if (!(await root.exists(MODEL_INDEX_NAME))) {
    const layout = [MODEL_INDEX_NAME, ...names.map((name) => `${name}/`)].join(', ');
    throw new Error(`${root.location} is not a pipeline folder: ${MODEL_INDEX_NAME} is missing (expected ${layout})`);
  }
  const index = await root.readJson(MODEL_INDEX_NAME);
  const planned: PlannedComponent[] = [];
  for (const name of names) {
    const key = toCamelCase(name);
    if (request.given[key] !== undefined) continue;
    const spec = request.expected[name];
    const entry = indexEntry(index, name, root.location);
    if (entry === null) {
      if (spec.optional) continue;
      throw new Error(`${root.location}/${MODEL_INDEX_NAME} does not list a '${name}' component`);
    }
    const className = request.classOverrides[name] ?? entry[1];
    if (spec.classes !== undefined && !spec.classes.includes(className)) {
      throw new Error(`${request.pipeline}: component '${name}' is a ${className}, expected ${spec.classes.join(' or ')}`);
    }
    if (request.loaders[className] === undefined) {
      throw new Error(
        `${root.location}/${MODEL_INDEX_NAME}: unknown component class '${className}' for '${name}' (known: ${Object.keys(request.loaders).join(', ')})`,
      );
    }
    planned.push({ name, key, className });
  }
  return planned;
}

/**
 * Loads the components of a pipeline folder (local path or http(s) URL) that the caller did not
 * give, in sorted name order as Diffusers does; returns them by camelCase name. If one fails, the
 * ones already loaded are disposed.
 */
export async function loadComponents(source: PretrainedSource, request: LoadComponentsRequest): Promise<Record<string, PipelineComponent>> {
  return loadPlannedComponents(source, request, await planComponents(source, request));
}

/** Loads the components `planComponents` returned (for a caller that checks the plan first); if one fails, the ones already loaded are disposed. */
export async function loadPlannedComponents(
  source: PretrainedSource,
  request: LoadComponentsRequest,
  planned: readonly PlannedComponent[],
): Promise<Record<string, PipelineComponent>> {
  const loaded: Record<string, PipelineComponent> = {};
  try {
    for (const { name, key, className } of planned) {
      const { onWarning, budget, variant } = request;
      const requestedName = request.requestedNames?.[name];
      loaded[key] = await request.loaders[className].load(source.subfolder(name), { className, requestedName, onWarning, budget, variant });
    }
  } catch (error) {
    for (const component of Object.values(loaded)) component.dispose?.();
    throw error;
  }
  return loaded;
}

/**
 * Writes `model_index.json` (`_class_name` = `pipelineClass`) and each component into its
 * subfolder with its loader's `save` (models in `options.dtype`); absent optional components are
 * recorded as `[null, null]`.
 */
export async function saveComponents(
  folder: string,
  pipelineClass: string,
  components: Readonly<Record<string, PipelineComponent | undefined>>,
  loaders: ComponentLoaders,
  options: ComponentSaveOptions = {},
): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  const nodePath = await import('node:path');
  const names = Object.keys(components).sort();
  const index: ConfigJson = { _class_name: pipelineClass, _diffusers_version: DIFFUSERS_VERSION };
  for (const name of names) {
    const component = components[name];
    if (component !== undefined && loaders[component.className] === undefined) {
      throw new Error(`${pipelineClass}: no component loader for '${component.className}' (component '${name}') to save it with`);
    }
    index[name] = component === undefined ? [null, null] : [loaders[component.className].library, component.className];
  }
  await mkdir(folder, { recursive: true });
  await writeConfigFile(nodePath.join(folder, MODEL_INDEX_NAME), index);
  for (const name of names) {
    const component = components[name];
    if (component !== undefined) await loaders[component.className].save(component, nodePath.join(folder, name), options);
  }
}
