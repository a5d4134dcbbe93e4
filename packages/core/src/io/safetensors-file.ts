import { writeFileAtomic } from './atomic-write.js';
import { resolveLoadOptions, type LoadOptions, type ResolvedLoadOptions } from './load-options.js';
import { loadLocalSafetensors } from './safetensors-local.js';
import { readSafetensors, writeSafetensors, type SafetensorsFile, type SafetensorsTensor } from './safetensors.js';
import { isUrl, readSourceBytes } from './source-bytes.js';

/** Loads a safetensors file from a local path, `file:` URL or http(s) URL within resolved limits. */
export async function loadSafetensorsFrom(source: string | URL, options: ResolvedLoadOptions): Promise<SafetensorsFile> {
  if (isUrl(source)) return readSafetensors(await readSourceBytes(source, 'weights', options));
  return loadLocalSafetensors(source, options);
}

/**
 * Loads a safetensors file from bytes, a local path or `file:` URL (Node; read one tensor at a
 * time, so files past Node's 2 GiB `readFile` limit load) or an http(s) URL, within the limits of
 * `options` (a download stops at the size the file's header declares).
 */
export async function loadSafetensors(source: string | URL | Uint8Array, options: LoadOptions = {}): Promise<SafetensorsFile> {
  if (source instanceof Uint8Array) return readSafetensors(source);
  return loadSafetensorsFrom(source, resolveLoadOptions(options));
}

/** Writes a safetensors file atomically (Node only): temp file, then rename. */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, writeSafetensors(tensors, metadata));
}
