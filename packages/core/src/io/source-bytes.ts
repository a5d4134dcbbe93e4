import { httpExists, readHttpBytes } from './http-read.js';
import { LoadError } from './load-error.js';
import type { ReadKind, ResolvedLoadOptions } from './load-options.js';

/** Whether `source` is an http(s) URL (a string or a `URL`) rather than a local path or `file:` URL. */
export function isUrl(source: string | URL): boolean {
  if (source instanceof URL) return source.protocol === 'http:' || source.protocol === 'https:';
  return /^https?:\/\//i.test(source);
}

/** Whether `source` is a `file:` URL (a string or a `URL`). */
export function isFileUrl(source: string | URL): boolean {
  if (source instanceof URL) return source.protocol === 'file:';
  return /^file:/i.test(source);
}

/** What Node's fs functions take for a local source: the path, or the `file:` URL as a `URL`. */
function localTarget(source: string | URL): string | URL {
  return typeof source === 'string' && isFileUrl(source) ? new URL(source) : source;
}

/**
 * Reads bytes from an http(s) URL (bounded: see `readHttpBytes`), a `file:` URL or a local path
 * (Node; refused above the size limit of `kind` before reading). Failures are `LoadError`s naming
 * the source. Node modules are imported lazily.
 */
export async function readSourceBytes(source: string | URL, kind: ReadKind, options: ResolvedLoadOptions): Promise<Uint8Array> {
  const shown = source instanceof URL ? source.href : source;
  if (isUrl(source)) return readHttpBytes(shown, kind, options);
  if (source instanceof URL && source.protocol !== 'file:') {
    throw new LoadError('unsupported', shown, 'only http(s) and file URLs are supported');
  }
  options.signal?.throwIfAborted();
  const target = localTarget(source);
  const { open } = await import('node:fs/promises');
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(target, 'r');
  } catch (error) {
    throw localFailure(error, shown);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new LoadError('unsupported', shown, 'expected a file but found a folder');
    const limit = kind === 'weights' ? options.maxWeightsBytes : options.maxTextBytes;
    if (info.size > limit) {
      throw new LoadError('too-large', shown, `the file is ${info.size} bytes, more than the ${limit}-byte limit (${kind === 'weights' ? 'maxWeightsBytes' : 'maxTextBytes'})`);
    }
    const buffer = await handle.readFile().catch((error: unknown) => {
      throw localFailure(error, shown);
    });
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } finally {
    await handle.close();
  }
}

/** Whether a local file (path or `file:` URL) or an http(s) URL exists. */
export async function sourceExists(source: string, options: ResolvedLoadOptions): Promise<boolean> {
  if (isUrl(source)) return httpExists(source, options);
  const { stat } = await import('node:fs/promises');
  try {
    return (await stat(localTarget(source))).isFile();
  } catch {
    return false;
  }
}

function localFailure(error: unknown, shown: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new LoadError('not-found', shown, 'file not found', { cause: error });
  if (code === 'EISDIR') return new LoadError('unsupported', shown, 'expected a file but found a folder', { cause: error });
  return error;
}
