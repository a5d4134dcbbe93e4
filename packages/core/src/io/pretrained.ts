import { parseJsonText, type ConfigJson } from './config.js';
import { loadSafetensors } from './safetensors-file.js';
import type { SafetensorsFile } from './safetensors.js';
import { isUrl, readSourceBytes } from './source-bytes.js';

/**
 * A folder of model files in Diffusers' layout (`config.json`, `diffusion_pytorch_model.safetensors`,
 * `scheduler/scheduler_config.json`, `unet/…`, `model_index.json`), on disk or behind an http(s)
 * base URL. Errors name the missing file and the source.
 */
export interface PretrainedSource {
  /** The folder path or base URL. */
  readonly location: string;
  /** The same source one folder down. */
  subfolder(name: string): PretrainedSource;
  /** Whether `file` exists. */
  exists(file: string): Promise<boolean>;
  /** The bytes of `file`. */
  readBytes(file: string): Promise<Uint8Array>;
  /** The text of `file` (UTF-8). */
  readText(file: string): Promise<string>;
  /** `file` parsed as a JSON object. */
  readJson(file: string): Promise<ConfigJson>;
}

function checkRelative(file: string): string {
  const parts = file.split(/[\\/]/);
  if (file.startsWith('/') || parts.some((part) => part === '..')) {
    throw new Error(`pretrained: '${file}' must be a relative path inside the model folder`);
  }
  return parts.filter((part) => part !== '' && part !== '.').join('/');
}

class FolderOrUrlSource implements PretrainedSource {
  readonly location: string;
  private readonly remote: boolean;

  constructor(location: string) {
    this.remote = isUrl(location);
    this.location = location.replace(/\/+$/, '') || '/';
  }

  private resolve(file: string): string {
    return `${this.location}/${checkRelative(file)}`;
  }

  subfolder(name: string): PretrainedSource {
    return new FolderOrUrlSource(this.resolve(name));
  }

  async exists(file: string): Promise<boolean> {
    const target = this.resolve(file);
    if (this.remote) {
      let response = await fetch(target, { method: 'HEAD' });
      if (response.status === 405 || response.status === 501) {
        // Servers without HEAD: ask for one byte instead.
        response = await fetch(target, { headers: { Range: 'bytes=0-0' } });
        await response.body?.cancel();
      }
      return response.ok;
    }
    const { stat } = await import('node:fs/promises');
    try {
      return (await stat(target)).isFile();
    } catch {
      return false;
    }
  }

  async readBytes(file: string): Promise<Uint8Array> {
    const target = this.resolve(file);
    try {
      return await readSourceBytes(target);
    } catch (error) {
      throw new Error(`pretrained: cannot read '${file}' from ${this.location}: ${(error as Error).message}${await this.hint()}`, { cause: error });
    }
  }

  /** A hint for a local folder that does not exist (often a Hub model id given as a path). */
  private async hint(): Promise<string> {
    if (this.remote) return '';
    const { stat } = await import('node:fs/promises');
    const folderExists = await stat(this.location).then(
      (info) => info.isDirectory(),
      () => false,
    );
    if (folderExists) return '';
    const hubId = /^[\w.-]+\/[\w.-]+$/.test(this.location);
    return hubId
      ? ` (the folder does not exist; Hub ids are not resolved, pass https://huggingface.co/${this.location}/resolve/main instead)`
      : ' (the folder does not exist)';
  }

  async readText(file: string): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(file));
  }

  async readJson(file: string): Promise<ConfigJson> {
    return parseJsonText(await this.readText(file), `${this.location}/${checkRelative(file)}`);
  }
}

/** Opens a local folder or an http(s) base URL holding files in Diffusers' layout. */
export function openPretrained(source: string): PretrainedSource {
  if (typeof source !== 'string' || source.length === 0) throw new Error('openPretrained: source must be a non-empty path or URL');
  return new FolderOrUrlSource(source);
}

/** The weights file name Diffusers uses. */
export const DIFFUSERS_WEIGHTS_NAME = 'diffusion_pytorch_model.safetensors';

/** Reads `config.json` and `diffusion_pytorch_model.safetensors` from a folder or URL (optionally a subfolder). */
export async function loadPretrained(
  source: string | PretrainedSource,
  options: { subfolder?: string } = {},
): Promise<{ config: ConfigJson; weights: SafetensorsFile }> {
  let root = typeof source === 'string' ? openPretrained(source) : source;
  if (options.subfolder) root = root.subfolder(options.subfolder);
  const config = await root.readJson('config.json');
  const weights = await loadSafetensors(await root.readBytes(DIFFUSERS_WEIGHTS_NAME));
  return { config, weights };
}
