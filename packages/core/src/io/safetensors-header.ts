/**
 * Safetensors headers without the data: what a file holds (names, dtypes, shapes, byte ranges),
 * read from its first bytes only (a `Range` request over http, through the bounded reader), so
 * that memory can be planned before anything is loaded. The header is parsed by
 * `parseSafetensorsHeader`, the one parser `readSafetensors` uses too.
 */
import { resolveLoadOptions, type LoadOptions, type ResolvedLoadOptions } from './load-options.js';
import { parseSafetensorsHeader, safetensorsHeaderLength, SafetensorsError, type SafetensorsHeader } from './safetensors.js';
import { readSourcePrefix } from './source-bytes.js';

/** Prefixes a `SafetensorsError` with the file it came from (other errors already name it). */
export function namingFile<T>(shown: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof SafetensorsError && !error.fault.startsWith(`${shown}: `))
      throw new SafetensorsError(`${shown}: ${error.fault}`, error.tensor);
    throw error;
  }
}

/** Reads and parses the header of `source` within resolved load limits: two small reads, no tensor data. */
export async function readHeaderOf(source: string | URL, options: ResolvedLoadOptions): Promise<SafetensorsHeader> {
  const shown = source instanceof URL ? source.href : source;
  const first = await readSourcePrefix(source, 8, options);
  const headerLength = namingFile(shown, () => safetensorsHeaderLength(first));
  const prefix = await readSourcePrefix(source, 8 + headerLength, options);
  return namingFile(shown, () => parseSafetensorsHeader(prefix));
}

/**
 * Reads only the header of a safetensors file (local path, `file:` URL or http(s) URL): two small
 * reads, no tensor data, within the limits of `options` (timeout, redirects, `signal`). Errors name
 * the file.
 */
export async function readSafetensorsHeader(source: string | URL, options: LoadOptions = {}): Promise<SafetensorsHeader> {
  return readHeaderOf(source, resolveLoadOptions(options));
}
