/** Whether `source` is an http(s) URL rather than a local path. */
export function isUrl(source: string | URL): boolean {
  return source instanceof URL || /^https?:\/\//i.test(source);
}

/** Reads bytes from an http(s) URL (with `fetch`) or a local file (Node). Errors name the source. */
export async function readSourceBytes(source: string | URL): Promise<Uint8Array> {
  if (isUrl(source)) {
    const response = await fetch(source);
    if (!response.ok) throw new Error(`could not fetch ${String(source)}: HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  }
  const { readFile } = await import('node:fs/promises');
  try {
    return new Uint8Array(await readFile(source));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`file not found: ${source}`);
    throw error;
  }
}
