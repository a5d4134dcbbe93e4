/** Whether `source` is an http(s) URL (a string or a `URL`) rather than a local path or `file:` URL. */
export function isUrl(source: string | URL): boolean {
  if (source instanceof URL) return source.protocol === 'http:' || source.protocol === 'https:';
  return /^https?:\/\//i.test(source);
}

/**
 * Reads bytes from an http(s) URL (with `fetch`), a `file:` URL or a local path (Node). Errors
 * name the source, and the HTTP status for URLs. Node modules are imported lazily.
 */
export async function readSourceBytes(source: string | URL): Promise<Uint8Array> {
  if (isUrl(source)) {
    let response: Response;
    try {
      response = await fetch(source);
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      throw new Error(`could not fetch ${String(source)}: ${(error as Error).message}${cause ? ` (${cause})` : ''}`, { cause: error });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`could not fetch ${String(source)}: HTTP ${response.status} ${response.statusText}`.trimEnd());
    }
    return new Uint8Array(await response.arrayBuffer());
  }
  if (source instanceof URL && source.protocol !== 'file:') {
    throw new Error(`cannot read ${source.href}: only http(s) and file URLs are supported`);
  }
  const target = typeof source === 'string' && /^file:\/\//i.test(source) ? new URL(source) : source;
  const { readFile } = await import('node:fs/promises');
  try {
    const buffer = await readFile(target);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const shown = target instanceof URL ? target.href : target;
    if (code === 'ENOENT') throw new Error(`file not found: ${shown}`, { cause: error });
    if (code === 'EISDIR') throw new Error(`expected a file but found a folder: ${shown}`, { cause: error });
    throw error;
  }
}
