/**
 * Safetensors headers without the data: what a file holds (names, dtypes, shapes, byte ranges),
 * read from its first bytes only, so that memory can be planned before anything is loaded; and
 * large local files loaded one tensor at a time (no whole-file buffer, no 2 GiB `readFile` limit).
 */
import { decodeSafetensorsData, SAFETENSORS_DTYPE_BYTES, SafetensorsError, type SafetensorsDtype, type SafetensorsFile, type SafetensorsTensor } from './safetensors.js';
import { isUrl } from './source-bytes.js';

/** One tensor of a header: dtype, shape and where its bytes lie in the file. */
export interface SafetensorsHeaderEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Offset of the first byte in the file (8 + header length + `data_offsets[0]`). */
  fileOffset: number;
  byteLength: number;
}

/** A parsed header: metadata, tensors, and the file size it declares. */
export interface SafetensorsHeader {
  metadata: Record<string, string>;
  tensors: Record<string, SafetensorsHeaderEntry>;
  /** 8 + header length. */
  dataStart: number;
  /** The whole file's size as the header declares it (dataStart + the last tensor's end). */
  declaredFileBytes: number;
}

/** Headers larger than this are refused (the reference implementation's limit). */
const MAX_HEADER_BYTES = 100_000_000;

function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The header length from a file's first 8 bytes, checked against the limit. */
export function safetensorsHeaderLength(first8: Uint8Array): number {
  if (first8.length < 8) throw new SafetensorsError(`file is ${first8.length} bytes, shorter than the 8-byte header length`);
  const length = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  return Number(length);
}

/**
 * Parses the header at the start of `prefix` (8 + header length bytes at least; the data need not
 * follow). Every entry is checked (dtype, shape, offsets that match the shape, no overlap or gap),
 * as `readSafetensors` checks them.
 */
export function parseSafetensorsHeader(prefix: Uint8Array): SafetensorsHeader {
  const headerLength = safetensorsHeaderLength(prefix);
  if (prefix.length < 8 + headerLength) {
    throw new SafetensorsError(`header length ${headerLength} runs beyond the ${prefix.length} bytes given`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(prefix.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError('header must be a JSON object');
  const dataStart = 8 + headerLength;
  const metadata: Record<string, string> = {};
  const tensors: Record<string, SafetensorsHeaderEntry> = {};
  const ranges: { name: string; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new SafetensorsError('__metadata__ must be an object of strings');
      for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof value !== 'string') throw new SafetensorsError(`__metadata__ value '${key}' must be a string`);
        setOwn(metadata, key, value);
      }
      continue;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new SafetensorsError('entry must be an object with dtype, shape and data_offsets', name);
    }
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string' || !Object.hasOwn(SAFETENSORS_DTYPE_BYTES, dtype)) {
      throw new SafetensorsError(`unknown or unsupported dtype ${JSON.stringify(dtype)?.slice(0, 40)}`, name);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError('shape must be an array of non-negative integers', name);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[1] < offsets[0]) {
      throw new SafetensorsError('data_offsets must be two non-negative integers [begin, end], end >= begin', name);
    }
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const byteLength = count * SAFETENSORS_DTYPE_BYTES[dtype as SafetensorsDtype];
    const [begin, end] = offsets as [number, number];
    if (!Number.isSafeInteger(count) || byteLength !== end - begin) {
      throw new SafetensorsError(`shape [${shape.join(', ')}] of ${dtype} needs ${byteLength} bytes but data_offsets span ${end - begin}`, name);
    }
    setOwn(tensors, name, { dtype: dtype as SafetensorsDtype, shape: [...(shape as number[])], fileOffset: dataStart + begin, byteLength });
    ranges.push({ name, begin, end });
  }
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const range of ranges) {
    if (range.begin !== cursor) {
      throw new SafetensorsError(`data_offsets [${range.begin}, ${range.end}] ${range.begin < cursor ? 'overlap the previous tensor' : `leave a gap of ${range.begin - cursor} bytes`}`, range.name);
    }
    cursor = range.end;
  }
  return { metadata, tensors, dataStart, declaredFileBytes: dataStart + cursor };
}

/**
 * The first `length` bytes of a local file (Node) or an http(s) URL (a `Range` request; a server
 * that ignores it is read only as far as needed, then the download is cancelled). Fewer bytes come
 * back when the file is shorter.
 */
export async function readLeadingBytes(location: string, length: number): Promise<Uint8Array> {
  if (isUrl(location)) {
    const response = await fetch(location, { headers: { Range: `bytes=0-${Math.max(0, length - 1)}` } });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`could not fetch ${location}: HTTP ${response.status} ${response.statusText}`.trimEnd());
    }
    const out = new Uint8Array(length);
    let filled = 0;
    const reader = response.body?.getReader();
    if (reader === undefined) return out.subarray(0, 0);
    while (filled < length) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, length - filled);
      out.set(value.subarray(0, take), filled);
      filled += take;
    }
    await reader.cancel().catch(() => undefined);
    return out.subarray(0, filled);
  }
  const { open } = await import('node:fs/promises');
  const handle = await openLocal(open, location);
  try {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(out, filled, length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return out.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

type OpenFunction = typeof import('node:fs/promises').open;

async function openLocal(open: OpenFunction, location: string): ReturnType<OpenFunction> {
  const path = /^file:\/\//i.test(location) ? new URL(location) : location;
  try {
    return await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`file not found: ${location}`);
    if (code === 'EISDIR') throw new Error(`expected a file but found a folder: ${location}`);
    throw error;
  }
}

/**
 * Reads only the header of a safetensors file (local path or http(s) URL): two small reads, no
 * tensor data. Errors name the file.
 */
export async function readSafetensorsHeader(location: string): Promise<SafetensorsHeader> {
  try {
    const first = await readLeadingBytes(location, 8);
    const headerLength = safetensorsHeaderLength(first);
    return parseSafetensorsHeader(await readLeadingBytes(location, 8 + headerLength));
  } catch (error) {
    if (error instanceof SafetensorsError) throw new SafetensorsError(`${location}: ${error.fault}`, error.tensor);
    throw error;
  }
}

/**
 * Loads a local safetensors file (Node) one tensor at a time: the header first, then each tensor's
 * bytes by a positioned read, decoded at once (F16/BF16 widened). The whole file is never held in
 * one buffer, so files past Node's 2 GiB `readFile` limit load, and peak memory is the decoded
 * tensors plus one tensor's bytes. The file's size must be the one its header declares.
 */
export async function loadSafetensorsFile(path: string): Promise<SafetensorsFile> {
  const { open } = await import('node:fs/promises');
  const handle = await openLocal(open, path);
  try {
    const size = (await handle.stat()).size;
    const readAt = async (offset: number, length: number): Promise<Uint8Array> => {
      const out = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(out, filled, length - filled, offset + filled);
        if (bytesRead === 0) throw new SafetensorsError(`${path}: file ends at ${offset + filled} bytes, inside a tensor`);
        filled += bytesRead;
      }
      return out;
    };
    let header: SafetensorsHeader;
    try {
      const headerLength = safetensorsHeaderLength(await readAt(0, Math.min(8, size)));
      if (8 + headerLength > size) throw new SafetensorsError(`header length ${headerLength} runs beyond the end of the ${size}-byte file`);
      header = parseSafetensorsHeader(await readAt(0, 8 + headerLength));
    } catch (error) {
      if (error instanceof SafetensorsError && !error.message.includes(path)) throw new SafetensorsError(`${path}: ${error.fault}`, error.tensor);
      throw error;
    }
    if (header.declaredFileBytes !== size) {
      throw new SafetensorsError(`${path}: the header declares ${header.declaredFileBytes} bytes but the file has ${size}`);
    }
    const tensors: Record<string, SafetensorsTensor> = {};
    for (const [name, entry] of Object.entries(header.tensors)) {
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const data = decodeSafetensorsData(entry.dtype, await readAt(entry.fileOffset, entry.byteLength), count);
      setOwn(tensors, name, { dtype: entry.dtype, shape: entry.shape, data });
    }
    return { metadata: header.metadata, tensors };
  } finally {
    await handle.close();
  }
}
