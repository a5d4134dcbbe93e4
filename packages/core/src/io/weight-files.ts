/**
 * Which safetensors files hold a model's weights, as Diffusers and transformers name them: one file
 * (`diffusion_pytorch_model.safetensors`, `model.safetensors`), a weights variant
 * (`diffusion_pytorch_model.fp16.safetensors`), or shards listed by an index
 * (`diffusion_pytorch_model.safetensors.index.json`, variant `…safetensors.index.fp16.json`); their
 * size counted from the headers alone, and their tensors loaded and merged.
 */
import { previewJson, truncateText } from './json-preview.js';
import { LoadError } from './load-error.js';
import type { PretrainedSource } from './pretrained.js';
import { SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype, type SafetensorsTensor } from './safetensors.js';
import { WeightsError } from './weights-error.js';

/**
 * A weights file name with a variant, as Diffusers' `_add_variant` makes it: the variant goes
 * before the last dot-separated part (`model.safetensors` -> `model.fp16.safetensors`,
 * `model.safetensors.index.json` -> `model.safetensors.index.fp16.json`).
 */
export function withVariant(fileName: string, variant?: string): string {
  if (variant === undefined || variant === '') return fileName;
  if (!/^[\w-]+$/.test(variant)) throw new Error(`weights variant '${truncateText(variant)}' must be a plain name such as 'fp16'`);
  const parts = fileName.split('.');
  return [...parts.slice(0, -1), variant, ...parts.slice(-1)].join('.');
}

/** The index file name of sharded weights (`<weights name>.index.json`). */
export function shardIndexName(weightsName: string): string {
  return `${weightsName}.index.json`;
}

/** The weight files found for one model. */
export interface WeightFiles {
  /** The model folder (or URL). */
  location: string;
  /** The safetensors files, relative to `location` (one, or the shards in index order). */
  files: string[];
  /** The shard index read, when the weights are sharded. */
  index?: string;
  /** The variant the files carry (`undefined` for the plain files, also after a fallback). */
  variant?: string;
  /** For sharded weights: tensor name -> shard file, from the index. */
  weightMap?: Record<string, string>;
}

/** Options of `findWeightFiles`. */
export interface FindWeightFilesOptions {
  /** A weights variant such as `fp16`; the plain files are used (with a warning) when the folder has none. */
  variant?: string;
  /** Receives the variant fallback warning (default `console.warn`). */
  onWarning?: (message: string) => void;
}

/** A file name inside the model folder from an index's weight map (no folders, no `..`). */
function checkShardName(name: unknown, index: string): string {
  if (typeof name !== 'string' || name === '' || /[\\/]/.test(name) || name === '.' || name === '..') {
    throw new WeightsError(`${index}: weight_map names a shard ${previewJson(name)}, not a file name in the folder`);
  }
  return name;
}

async function readShardIndex(source: PretrainedSource, index: string): Promise<{ files: string[]; weightMap: Record<string, string> }> {
  const json = await source.readJson(index);
  const map = json.weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map))
    throw new WeightsError(`${source.location}/${index}: 'weight_map' must be an object of tensor name -> file`);
  const weightMap: Record<string, string> = {};
  const files: string[] = [];
  for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
    const shard = checkShardName(file, `${source.location}/${index}`);
    Object.defineProperty(weightMap, name, { value: shard, enumerable: true, writable: true, configurable: true });
    if (!files.includes(shard)) files.push(shard);
  }
  if (files.length === 0) throw new WeightsError(`${source.location}/${index}: 'weight_map' lists no tensors`);
  return { files, weightMap };
}

/**
 * Finds a model's weights: `weightsName` with the variant, then its shard index with the variant,
 * then (with a warning) the same without the variant. None found is a `LoadError` (`not-found`)
 * naming every file tried.
 */
export async function findWeightFiles(
  source: PretrainedSource,
  weightsName: string,
  options: FindWeightFilesOptions = {},
): Promise<WeightFiles> {
  const variants = options.variant ? [options.variant, undefined] : [undefined];
  const tried: string[] = [];
  for (const variant of variants) {
    const single = withVariant(weightsName, variant);
    tried.push(single);
    if (await source.exists(single)) {
      if (variant !== options.variant) warnFallback(source, options, single);
      return { location: source.location, files: [single], variant };
    }
    const index = withVariant(shardIndexName(weightsName), variant);
    tried.push(index);
    if (await source.exists(index)) {
      if (variant !== options.variant) warnFallback(source, options, index);
      const { files, weightMap } = await readShardIndex(source, index);
      return { location: source.location, files, index, variant, weightMap };
    }
  }
  const wanted = `${source.location.replace(/\/+$/, '')}/${tried[0]}`;
  throw new LoadError('not-found', wanted, `file not found; no weights found (looked for ${tried.join(', ')})`);
}

function warnFallback(source: PretrainedSource, options: FindWeightFilesOptions, used: string): void {
  (options.onWarning ?? console.warn)(`${source.location}: no '${options.variant}' variant of the weights; using ${used}`);
}

/** Bytes and counts of a model's weights, from the safetensors headers alone. */
export interface WeightFootprint {
  /** Tensors in all files. */
  tensors: number;
  /** Scalar parameters (elements). */
  elements: number;
  /** Bytes of tensor data in the files (as stored: F16 counts 2 per element). */
  storedBytes: number;
  /** Bytes once loaded here: every float widened to float32, integers as int32 (4 per element). */
  loadedBytes: number;
  /** The largest single tensor once loaded. */
  largestTensorBytes: number;
  /** Elements per stored dtype. */
  dtypes: Partial<Record<SafetensorsDtype, number>>;
}

/**
 * Counts the weights' bytes from each file's header (two small reads per file, no tensor data,
 * within the source's load limits), so that a pipeline can refuse a model that cannot fit before
 * loading any of it.
 */
export async function weightFootprint(source: PretrainedSource, found: WeightFiles): Promise<WeightFootprint> {
  const footprint: WeightFootprint = { tensors: 0, elements: 0, storedBytes: 0, loadedBytes: 0, largestTensorBytes: 0, dtypes: {} };
  for (const file of found.files) {
    const header = await source.readSafetensorsHeader(file);
    for (const entry of Object.values(header.tensors)) {
      const count = entry.shape.reduce((a, b) => a * b, 1);
      footprint.tensors += 1;
      footprint.elements += count;
      footprint.storedBytes += count * SAFETENSORS_DTYPE_BYTES[entry.dtype];
      footprint.loadedBytes += 4 * count;
      footprint.largestTensorBytes = Math.max(footprint.largestTensorBytes, 4 * count);
      footprint.dtypes[entry.dtype] = (footprint.dtypes[entry.dtype] ?? 0) + count;
    }
  }
  return footprint;
}

/**
 * Loads and merges the tensors of every file through the source (local files one tensor at a
 * time, downloads within its limits). With an index, each tensor must be in the shard the index
 * names, and every indexed tensor must be found (a `WeightsError` otherwise).
 */
export async function loadWeightFiles(source: PretrainedSource, found: WeightFiles): Promise<Record<string, SafetensorsTensor>> {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const file of found.files) {
    const loaded = await source.loadSafetensors(file);
    for (const [name, tensor] of Object.entries(loaded.tensors)) {
      if (Object.hasOwn(tensors, name))
        throw new WeightsError(`${found.location}: tensor '${name}' is in more than one shard (again in ${file})`);
      if (found.weightMap && found.weightMap[name] !== file) {
        throw new WeightsError(
          `${found.location}/${found.index}: tensor '${name}' is in ${file} but the index names ${found.weightMap[name] ?? 'no shard'}`,
        );
      }
      Object.defineProperty(tensors, name, { value: tensor, enumerable: true, writable: true, configurable: true });
    }
  }
  if (found.weightMap) {
    const missing = Object.keys(found.weightMap).filter((name) => !Object.hasOwn(tensors, name));
    if (missing.length > 0) {
      throw new WeightsError(
        `${found.location}/${found.index}: ${missing.length} indexed tensors are in no shard (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''})`,
      );
    }
  }
  return tensors;
}
