/**
 * Writes `data` to `path` atomically (Node only): the bytes go to a temporary file in the same
 * folder, which is then renamed over `path`. A crash or an error midway leaves the previous file
 * untouched. Node modules are imported lazily so that browser bundles never load them.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const { mkdir, rename, rm, writeFile } = await import('node:fs/promises');
  const nodePath = await import('node:path');
  const folder = nodePath.dirname(path);
  await mkdir(folder, { recursive: true });
  const suffix = `${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}`;
  const temporary = nodePath.join(folder, `.${nodePath.basename(path)}.${suffix}.tmp`);
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
