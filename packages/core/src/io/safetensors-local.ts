/**
 * Local safetensors files (Node) loaded one tensor at a time: the header first, then each tensor's
 * bytes by a positioned read, decoded at once. The whole file is never held in one buffer, so
 * files past Node's 2 GiB `readFile` limit load, and peak memory is the decoded tensors plus one
 * tensor's bytes.
 */
import type { ResolvedLoadOptions } from './load-options.js';
import { namingFile } from './safetensors-header.js';
import {
  decodeSafetensorsData,
  parseSafetensorsHeader,
  safetensorsHeaderLength,
  SafetensorsError,
  type SafetensorsFile,
  type SafetensorsTensor,
} from './safetensors.js';
import { checkLocalSize, openLocalFile, readLocalAt, type LocalFile } from './source-bytes.js';

/** Exactly `length` bytes at `position`; a file that ends before is a `SafetensorsError`. */
async function readExactly(file: LocalFile, position: number, length: number): Promise<Uint8Array> {
  const bytes = await readLocalAt(file, position, length);
  if (bytes.length < length) throw new SafetensorsError(`${file.shown}: file ends at ${position + bytes.length} bytes, inside a tensor`);
  return bytes;
}

/**
 * Loads a local safetensors file (path or `file:` URL) tensor by tensor (F16/BF16 widened), within
 * `maxWeightsBytes`; the file's size must be the one its header declares. `signal` is checked
 * between tensors.
 */
export async function loadLocalSafetensors(source: string | URL, options: ResolvedLoadOptions): Promise<SafetensorsFile> {
  const file = await openLocalFile(source, options);
  const { shown, size } = file;
  try {
    checkLocalSize(shown, size, 'weights', options);
    const first = await readLocalAt(file, 0, 8);
    const headerLength = namingFile(shown, () => safetensorsHeaderLength(first));
    if (8 + headerLength > size)
      throw new SafetensorsError(`${shown}: header length ${headerLength} runs beyond the end of the ${size}-byte file`);
    const prefix = await readExactly(file, 0, 8 + headerLength);
    const header = namingFile(shown, () => parseSafetensorsHeader(prefix));
    if (header.declaredFileBytes !== size) {
      throw new SafetensorsError(`${shown}: the header declares ${header.declaredFileBytes} bytes but the file has ${size}`);
    }
    const tensors: Record<string, SafetensorsTensor> = {};
    for (const [name, entry] of Object.entries(header.tensors)) {
      options.signal?.throwIfAborted();
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const data = decodeSafetensorsData(entry.dtype, await readExactly(file, entry.fileOffset, entry.byteLength), count);
      Object.defineProperty(tensors, name, {
        value: { dtype: entry.dtype, shape: entry.shape, data },
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return { metadata: header.metadata, tensors };
  } finally {
    await file.handle.close();
  }
}
