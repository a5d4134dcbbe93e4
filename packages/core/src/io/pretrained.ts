import { parseJsonText, type ConfigJson } from './config.js';
import { LoadError } from './load-error.js';
import { resolveLoadOptions, type LoadOptions, type ResolvedLoadOptions } from './load-options.js';
import { relativeSegments } from './relative-path.js';
import type { SafetensorsFile, SafetensorsHeader } from './safetensors.js';
import { readHeaderOf } from './safetensors-header.js';
import { loadSafetensorsFrom } from './safetensors-file.js';
import { isFileUrl, isUrl, readSourceBytes, sourceExists } from './source-bytes.js';

/**
 * A folder of model files in Diffusers' layout (`config.json`, `diffusion_pytorch_model.safetensors`,
 * `scheduler/scheduler_config.json`, `unet/…`, `model_index.json`), on disk, behind a `file:` URL
 * or behind an http(s) base URL. Every relative path is decoded and normalised first; one that
 * would leave the folder, or carries a query or fragment, is refused (`LoadError`, `unsafe-path`).
 * Reads are bounded by the `LoadOptions` the source was opened with.
 */
export interface PretrainedSource {
  /** The folder path or base URL. */
  readonly location: string;
  /** The same source one folder down (the same limits). */
  subfolder(name: string): PretrainedSource;
  /** Whether `file` exists. */
  exists(file: string): Promise<boolean>;
  /** The bytes of `file`: a `.safetensors` file within `maxWeightsBytes` (and its header's size), anything else within `maxTextBytes`. */
  readBytes(file: string): Promise<Uint8Array>;
  /** The text of `file` (UTF-8, within `maxTextBytes`). */
  readText(file: string): Promise<string>;
  /** `file` parsed as a JSON object (within `maxTextBytes`). */
  readJson(file: string): Promise<ConfigJson>;
  /** The tensors of the safetensors `file` (local files are read one tensor at a time; downloads within the limits). */
  loadSafetensors(file: string): Promise<SafetensorsFile>;
  /** Only the header of the safetensors `file`: its first bytes (a `Range` request over http), no tensor data. */
  readSafetensorsHeader(file: string): Promise<SafetensorsHeader>;
}

type SourceKind = 'http' | 'file-url' | 'path';

class FolderOrUrlSource implements PretrainedSource {
  readonly location: string;

  constructor(
    location: string,
    private readonly kind: SourceKind,
    private readonly options: ResolvedLoadOptions,
  ) {
    this.location = location.replace(/\/+$/, '') || '/';
  }

  /** The location of `file` below this folder, checked to stay inside it. */
  private resolve(file: string): string {
    const segments = relativeSegments(file, this.location);
    if (segments.length === 0) return this.location;
    if (this.kind === 'path') {
      const separator = this.location.endsWith('/') || this.location.endsWith('\\') ? '' : '/';
      return `${this.location}${separator}${segments.join('/')}`;
    }
    const target = `${this.location}/${segments.map(encodeURIComponent).join('/')}`;
    // Defence in depth: the URL parser must agree that the target lies below the base.
    const base = new URL(`${this.location}/`);
    const resolved = new URL(target);
    if (resolved.origin !== base.origin || !resolved.pathname.startsWith(base.pathname) || resolved.search || resolved.hash) {
      throw new LoadError('unsafe-path', target, `'${file}' resolves outside ${this.location}`);
    }
    return target;
  }

  private readLimitOf(file: string): 'weights' | 'text' {
    return file.toLowerCase().endsWith('.safetensors') ? 'weights' : 'text';
  }

  subfolder(name: string): PretrainedSource {
    return new FolderOrUrlSource(this.resolve(name), this.kind, this.options);
  }

  async exists(file: string): Promise<boolean> {
    return sourceExists(this.resolve(file), this.options);
  }

  async readBytes(file: string): Promise<Uint8Array> {
    return this.read(file, this.readLimitOf(file));
  }

  async loadSafetensors(file: string): Promise<SafetensorsFile> {
    const target = this.resolve(file);
    return this.hinted(() => loadSafetensorsFrom(target, this.options));
  }

  async readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
    const target = this.resolve(file);
    return this.hinted(() => readHeaderOf(target, this.options));
  }

  /** Reads `file` within the limit of `kind`. */
  private async read(file: string, kind: 'weights' | 'text'): Promise<Uint8Array> {
    const target = this.resolve(file);
    return this.hinted(() => readSourceBytes(target, kind, this.options));
  }

  /** Runs a read; a missing file in a missing local folder says so. */
  private async hinted<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof LoadError && error.fault === 'not-found') {
        const hint = await this.hint();
        if (hint) throw new LoadError(error.fault, error.source, `${error.reason}${hint}`, { status: error.status, cause: error });
      }
      throw error;
    }
  }

  /** A hint for a local folder that does not exist (often a Hub model id given as a path). */
  private async hint(): Promise<string> {
    if (this.kind !== 'path') return '';
    const { stat } = await import('node:fs/promises');
    const folderExists = await stat(this.location).then(
      (info) => info.isDirectory(),
      () => false,
    );
    if (folderExists) return '';
    const hubId = /^[\w.-]+\/[\w.-]+$/.test(this.location);
    return hubId
      ? ` (the folder does not exist; Hub ids are not resolved, pass https://huggingface.co/${this.location}/resolve/main instead)`
      : ` (the folder does not exist)`;
  }

  async readText(file: string): Promise<string> {
    return new TextDecoder().decode(await this.read(file, 'text'));
  }

  async readJson(file: string): Promise<ConfigJson> {
    return parseJsonText(await this.readText(file), this.resolve(file));
  }
}

/**
 * Opens a local folder, a `file:` URL or an http(s) base URL holding files in Diffusers' layout.
 * `options` bound every read through it (timeout, sizes, redirects, cancellation).
 */
export function openPretrained(source: string, options: LoadOptions = {}): PretrainedSource {
  if (typeof source !== 'string' || source.length === 0) throw new TypeError('openPretrained: source must be a non-empty path or URL');
  const kind: SourceKind = isUrl(source) ? 'http' : isFileUrl(source) ? 'file-url' : 'path';
  if (kind !== 'path') {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      throw new LoadError('unsupported', source, 'not a valid URL');
    }
    if (url.search || url.hash || /[?#]/.test(source)) {
      throw new LoadError('unsafe-path', source, 'a base URL must not carry a query or fragment (files are resolved below its path)');
    }
  }
  return new FolderOrUrlSource(source, kind, resolveLoadOptions(options));
}

/** The weights file name Diffusers uses. */
export const DIFFUSERS_WEIGHTS_NAME = 'diffusion_pytorch_model.safetensors';

/** Options of `loadPretrained`: a subfolder and the load limits. */
export interface LoadPretrainedOptions extends LoadOptions {
  /** A subfolder of the source, e.g. `unet` in a pipeline folder (decoded and checked like every path). */
  subfolder?: string;
}

/**
 * Reads `config.json` and `diffusion_pytorch_model.safetensors` from a folder or URL (optionally a
 * subfolder). The limits apply when `source` is a string; an opened source keeps its own.
 */
export async function loadPretrained(
  source: string | PretrainedSource,
  options: LoadPretrainedOptions = {},
): Promise<{ config: ConfigJson; weights: SafetensorsFile }> {
  let root = typeof source === 'string' ? openPretrained(source, options) : source;
  if (options.subfolder) root = root.subfolder(options.subfolder);
  const config = await root.readJson('config.json');
  const weights = await root.loadSafetensors(DIFFUSERS_WEIGHTS_NAME);
  return { config, weights };
}
