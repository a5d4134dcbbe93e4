import { httpExists, readHttpBytes, readHttpPrefix } from './http-read.js';
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

type FileHandle = Awaited<ReturnType<typeof import('node:fs/promises').open>>;

/** A local file opened for reading (Node), with its size; a missing file or a folder is a `LoadError`. */
export interface LocalFile {
  handle: FileHandle;
  size: number;
  /** The path or `file:` URL as given, for messages. */
  shown: string;
}

/** Opens a local path or `file:` URL for reading (the caller closes `handle`). */
export async function openLocalFile(source: string | URL, options: ResolvedLoadOptions): Promise<LocalFile> {
  const shown = source instanceof URL ? source.href : source;
  if (source instanceof URL && source.protocol !== 'file:') {
    throw new LoadError('unsupported', shown, 'only http(s) and file URLs are supported');
  }
  options.signal?.throwIfAborted();
  const { open } = await import('node:fs/promises');
  let handle: FileHandle;
  try {
    handle = await open(localTarget(source), 'r');
  } catch (error) {
    throw localFailure(error, shown);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new LoadError('unsupported', shown, 'expected a file but found a folder');
    return { handle, size: info.size, shown };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Throws a `LoadError` when a local file of `size` bytes exceeds the limit of `kind`. */
export function checkLocalSize(shown: string, size: number, kind: ReadKind, options: ResolvedLoadOptions): void {
  const limit = kind === 'weights' ? options.maxWeightsBytes : options.maxTextBytes;
  if (size > limit) {
    throw new LoadError(
      'too-large',
      shown,
      `the file is ${size} bytes, more than the ${limit}-byte limit (${kind === 'weights' ? 'maxWeightsBytes' : 'maxTextBytes'})`,
    );
  }
}

/** Reads up to `length` bytes at `position` of an open local file; fewer at its end. */
export async function readLocalAt(file: LocalFile, position: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.handle.read(out, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? out : out.subarray(0, filled);
}

/**
 * Reads bytes from an http(s) URL (bounded: see `readHttpBytes`), a `file:` URL or a local path
 * (Node; refused above the size limit of `kind` before reading). Failures are `LoadError`s naming
 * the source. Node modules are imported lazily.
 */
export async function readSourceBytes(source: string | URL, kind: ReadKind, options: ResolvedLoadOptions): Promise<Uint8Array> {
  if (isUrl(source)) return readHttpBytes(source instanceof URL ? source.href : source, kind, options);
  const file = await openLocalFile(source, options);
  try {
    checkLocalSize(file.shown, file.size, kind, options);
    const buffer = await file.handle.readFile().catch((error: unknown) => {
      throw localFailure(error, file.shown);
    });
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } finally {
    await file.handle.close();
  }
}

/**
 * The first `length` bytes of a local file or an http(s) URL (a `Range` request: see
 * `readHttpPrefix`); fewer when the file is shorter. For headers read before the data.
 */
export async function readSourcePrefix(source: string | URL, length: number, options: ResolvedLoadOptions): Promise<Uint8Array> {
  if (isUrl(source)) return readHttpPrefix(source instanceof URL ? source.href : source, length, options);
  const file = await openLocalFile(source, options);
  try {
    return await readLocalAt(file, 0, length);
  } finally {
    await file.handle.close();
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
