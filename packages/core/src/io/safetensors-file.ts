import { writeFileAtomic } from './atomic-write.js';
import { resolveLoadOptions, type LoadOptions } from './load-options.js';
import { readSafetensors, writeSafetensors, type SafetensorsFile, type SafetensorsTensor } from './safetensors.js';
import { readSourceBytes } from './source-bytes.js';

/**
 * Loads a safetensors file from bytes, a local path or `file:` URL (Node) or an http(s) URL,
 * within the limits of `options` (a download stops at the size the file's header declares).
 */
export async function loadSafetensors(source: string | URL | Uint8Array, options: LoadOptions = {}): Promise<SafetensorsFile> {
  if (source instanceof Uint8Array) return readSafetensors(source);
  return readSafetensors(await readSourceBytes(source, 'weights', resolveLoadOptions(options)));
}

/** Writes a safetensors file atomically (Node only): temp file, then rename. */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, writeSafetensors(tensors, metadata));
}
