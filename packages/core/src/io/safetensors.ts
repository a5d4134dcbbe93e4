/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON header
 * (`{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { string: string } }`),
 * then the raw little-endian tensor bytes. Reading validates everything before any data is used.
 */

import { firstDuplicate, MAX_JSON_DEPTH, outlineJson } from './json-outline.js';
import { previewJson } from './json-preview.js';
import { WeightsError } from './weights-error.js';

/** The element types safetensors files may hold (those this library reads and writes). */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8' | 'BOOL';

/** Typed storage for a tensor: F16 and BF16 are widened to float32 when read. */
export type SafetensorsData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/** One tensor: its stored dtype, its shape and its values. */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsData;
}

/** A parsed file: `__metadata__` and the tensors by name. */
export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Record<string, SafetensorsTensor>;
}

/**
 * A malformed safetensors file or tensor; `tensor` names the culprit when there is one. A
 * `WeightsError`, so one `catch` covers malformed files and weights that do not fit a model.
 */
export class SafetensorsError extends WeightsError {
  /** The tensor at fault, when the fault belongs to one. */
  readonly tensor?: string;
  /** A short description of the fault. */
  readonly fault: string;
  constructor(fault: string, tensor?: string) {
    super(tensor === undefined ? `safetensors: ${fault}` : `safetensors: tensor '${tensor}': ${fault}`);
    this.name = 'SafetensorsError';
    this.fault = fault;
    this.tensor = tensor;
  }
}

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  U8: 1,
  BOOL: 1,
};

/** Headers larger than this are refused before parsing (the reference implementation uses 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(BYTES_PER_ELEMENT, value);
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function decode(dtype: SafetensorsDtype, bytes: Uint8Array, count: number): SafetensorsData {
  // Copy into a fresh, aligned buffer of exactly these bytes: the source offset need not be a
  // multiple of the width, and `bytes` may be a view of a larger buffer (a Node Buffer's `slice`
  // is a view of the shared pool, so `bytes.slice().buffer` would be the whole pool).
  const fresh = new Uint8Array(bytes.length);
  fresh.set(bytes);
  const copy = fresh.buffer;
  switch (dtype) {
    case 'F64':
      return littleEndian(new Float64Array(copy), count);
    case 'F32':
      return littleEndian(new Float32Array(copy), count);
    case 'I64':
      return littleEndian(new BigInt64Array(copy), count);
    case 'I32':
      return littleEndian(new Int32Array(copy), count);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(copy);
    case 'F16': {
      const view = new DataView(copy);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    }
    case 'BF16': {
      const view = new DataView(copy);
      const out = new Float32Array(count);
      const scratch = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        scratch.setUint32(0, view.getUint16(2 * i, true) << 16);
        out[i] = scratch.getFloat32(0);
      }
      return out;
    }
  }
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndian<T extends Float64Array | Float32Array | BigInt64Array | Int32Array>(array: T, count: number): T {
  if (array.length !== count) throw new SafetensorsError(`internal: decoded ${array.length} elements, expected ${count}`);
  if (!HOST_IS_LITTLE_ENDIAN) {
    const bytes = new Uint8Array(array.buffer);
    const width = array.BYTES_PER_ELEMENT;
    for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  }
  return array;
}

/** A JSON excerpt of a bad value for an error message, cut to a readable length. */
const show = (value: unknown): string => previewJson(value);

/** Sets an own property, even for names such as `__proto__` that plain assignment would misread. */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function checkShape(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`shape must be an array of non-negative integers, got ${show(shape)}`, name);
  }
  return shape as number[];
}

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

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

/** The header length from a file's first 8 bytes, checked against the limit (100 MB, as the reference implementation). */
export function safetensorsHeaderLength(bytes: Uint8Array): number {
  if (bytes.length < 8) throw new SafetensorsError(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(`header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  return Number(headerLength);
}

/**
 * Parses and validates the JSON header (`bytes` from offset 8, at least `headerLength` long):
 * the metadata and every entry, sorted by offset, each checked on its own and against the
 * `dataLength` bytes that follow (when known).
 */
function parseHeader(
  bytes: Uint8Array,
  headerLength: number,
  dataLength = Number.POSITIVE_INFINITY,
): { metadata: Record<string, string>; entries: HeaderEntry[] } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch (error) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  // Nesting is bounded before anything recursive sees the header; names must be unique (JSON.parse
  // would silently keep the last of two entries).
  const outline = outlineJson(text);
  if (outline.tooDeep) throw new SafetensorsError(`header nests deeper than ${MAX_JSON_DEPTH} levels`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new SafetensorsError('header must be a JSON object');
  }
  const duplicate = firstDuplicate(outline.topLevelKeys);
  if (duplicate === '__metadata__') throw new SafetensorsError('__metadata__ appears more than once');
  if (duplicate !== undefined) throw new SafetensorsError('appears more than once in the header', duplicate);
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        throw new SafetensorsError('__metadata__ must be an object of strings');
      }
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
    if (!isDtype(dtype)) throw new SafetensorsError(`unknown or unsupported dtype ${show(dtype)}`, name);
    const dims = checkShape(name, shape);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new SafetensorsError(`data_offsets must be two non-negative integers, got ${show(offsets)}`, name);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw new SafetensorsError(`data_offsets [${begin}, ${end}] end before they begin`, name);
    if (end > dataLength) {
      throw new SafetensorsError(`data_offsets [${begin}, ${end}] run beyond the ${dataLength} data bytes`, name);
    }
    const count = dims.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(count) || count * BYTES_PER_ELEMENT[dtype] !== end - begin) {
      throw new SafetensorsError(
        `shape [${dims.join(',')}] of ${dtype} needs ${count * BYTES_PER_ELEMENT[dtype]} bytes but data_offsets span ${end - begin}`,
        name,
      );
    }
    entries.push({ name, dtype, shape: dims, begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  return { metadata, entries };
}

/** Checks that the sorted entries cover the data exactly, each tensor starting where the last ended; returns the end of the last. */
function checkCoverage(entries: readonly HeaderEntry[]): number {
  let cursor = 0;
  for (const entry of entries) {
    if (entry.begin !== cursor) {
      const fault = entry.begin < cursor ? 'overlaps the previous tensor' : `leaves a gap of ${entry.begin - cursor} bytes before it`;
      throw new SafetensorsError(`data_offsets [${entry.begin}, ${entry.end}] ${fault}`, entry.name);
    }
    cursor = entry.end;
  }
  return cursor;
}

/**
 * Parses and validates the header at the start of `prefix` (8 + header length bytes at least; the
 * data need not follow), as `readSafetensors` does: nesting depth, unique names, every entry's
 * dtype, shape and offsets, and offsets that cover the data without overlap or gap. For planning
 * from the header alone (sizes, byte ranges) before any tensor is read.
 */
export function parseSafetensorsHeader(prefix: Uint8Array): SafetensorsHeader {
  const headerLength = safetensorsHeaderLength(prefix);
  if (prefix.length < 8 + headerLength) {
    throw new SafetensorsError(`header length ${headerLength} runs beyond the ${prefix.length} bytes given`);
  }
  const { metadata, entries } = parseHeader(prefix, headerLength);
  const dataEnd = checkCoverage(entries);
  const dataStart = 8 + headerLength;
  const tensors: Record<string, SafetensorsHeaderEntry> = {};
  for (const entry of entries) {
    setOwn(tensors, entry.name, {
      dtype: entry.dtype,
      shape: entry.shape,
      fileOffset: dataStart + entry.begin,
      byteLength: entry.end - entry.begin,
    });
  }
  return { metadata, tensors, dataStart, declaredFileBytes: dataStart + dataEnd };
}

/**
 * The size in bytes of the whole file that a safetensors header declares (8 + header + the end
 * of the last tensor), from the file's first bytes; `undefined` while fewer bytes than the header
 * are given. A malformed header throws a `SafetensorsError`. Lets a download stop at the size the
 * header promises.
 */
export function declaredSafetensorsSize(prefix: Uint8Array): number | undefined {
  if (prefix.length < 8) return undefined;
  const headerLength = safetensorsHeaderLength(prefix);
  if (prefix.length < 8 + headerLength) return undefined;
  return parseSafetensorsHeader(prefix).declaredFileBytes;
}

/** Parses and validates a safetensors file held in memory. */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) throw new SafetensorsError('expected the file as a Uint8Array');
  const headerLength = safetensorsHeaderLength(bytes);
  if (headerLength > bytes.length - 8) {
    throw new SafetensorsError(`header length ${headerLength} runs beyond the end of the ${bytes.length}-byte file`);
  }
  const headerEnd = 8 + headerLength;
  const dataLength = bytes.length - headerEnd;
  const { metadata, entries } = parseHeader(bytes, headerLength, dataLength);
  // The data must be covered exactly: sorted by offset, each tensor starts where the last ended.
  const cursor = checkCoverage(entries);
  if (cursor !== dataLength) {
    throw new SafetensorsError(`${dataLength - cursor} trailing bytes after the last tensor`);
  }
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const entry of entries) {
    const count = entry.shape.reduce((a, b) => a * b, 1);
    const slice = bytes.subarray(headerEnd + entry.begin, headerEnd + entry.end);
    setOwn(tensors, entry.name, { dtype: entry.dtype, shape: entry.shape, data: decode(entry.dtype, slice, count) });
  }
  return { metadata, tensors };
}

function floatToHalf(value: number): number {
  const scratch = new DataView(new ArrayBuffer(4));
  scratch.setFloat32(0, value);
  const bits = scratch.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    let half = mantissa >> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && half & 1)) half += 1;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >> 13);
  const remainder = mantissa & 0x1fff;
  // A carry out of the mantissa rounds up into the exponent (to infinity from the largest finite).
  if (remainder > 0x1000 || (remainder === 0x1000 && half & 1)) half += 1;
  return sign | half;
}

function encode(name: string, tensor: SafetensorsTensor): Uint8Array {
  const { dtype, data } = tensor;
  const count = checkShape(name, tensor.shape).reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new SafetensorsError(`shape [${tensor.shape.join(',')}] has ${count} elements but data has ${data.length}`, name);
  }
  const out = new Uint8Array(count * BYTES_PER_ELEMENT[dtype]);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    const value = data[i];
    switch (dtype) {
      case 'F64':
        view.setFloat64(8 * i, Number(value), true);
        break;
      case 'F32':
        view.setFloat32(4 * i, Number(value), true);
        break;
      case 'F16':
        view.setUint16(2 * i, floatToHalf(Number(value)), true);
        break;
      case 'BF16': {
        // Round to nearest even on the upper 16 bits of the float32.
        const scratch = new DataView(new ArrayBuffer(4));
        scratch.setFloat32(0, Number(value));
        const bits = scratch.getUint32(0);
        const rounded = Number.isNaN(Number(value)) ? 0x7fc0 : (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
        view.setUint16(2 * i, rounded, true);
        break;
      }
      case 'I64':
        if (typeof value !== 'bigint' && !Number.isSafeInteger(value)) {
          throw new SafetensorsError(`I64 element ${i} is ${String(value)}, not an integer`, name);
        }
        view.setBigInt64(8 * i, BigInt(value), true);
        break;
      case 'I32':
        view.setInt32(4 * i, Number(value), true);
        break;
      case 'U8':
        view.setUint8(i, Number(value));
        break;
      case 'BOOL':
        view.setUint8(i, value ? 1 : 0);
        break;
    }
  }
  return out;
}

/**
 * Serialises tensors (sorted by name, as `safetensors` does) with optional string metadata. The
 * header is padded with spaces to a multiple of 8 bytes.
 */
export function writeSafetensors(tensors: Record<string, SafetensorsTensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new SafetensorsError(`__metadata__ value '${key}' must be a string`);
    }
    const copy: Record<string, string> = {};
    for (const key of Object.keys(metadata)) setOwn(copy, key, metadata[key]);
    header.__metadata__ = copy;
  }
  const names = Object.keys(tensors).sort();
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') throw new SafetensorsError("'__metadata__' is reserved and cannot name a tensor");
    const tensor = tensors[name];
    if (tensor === null || typeof tensor !== 'object') throw new SafetensorsError('expected { dtype, shape, data }', name);
    if (!isDtype(tensor.dtype)) throw new SafetensorsError(`unknown or unsupported dtype ${show(tensor.dtype)}`, name);
    const bytes = encode(name, tensor);
    setOwn(header, name, { dtype: tensor.dtype, shape: [...tensor.shape], data_offsets: [offset, offset + bytes.length] });
    chunks.push(bytes);
    offset += bytes.length;
  }
  let headerText = JSON.stringify(header);
  const headerBytesLength = new TextEncoder().encode(headerText).length;
  headerText += ' '.repeat((8 - (headerBytesLength % 8)) % 8);
  const headerBytes = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let cursor = 8 + headerBytes.length;
  for (const chunk of chunks) {
    out.set(chunk, cursor);
    cursor += chunk.length;
  }
  return out;
}

/** Bytes per element of each safetensors dtype. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = Object.freeze({ ...BYTES_PER_ELEMENT });

/**
 * Decodes one tensor's raw little-endian bytes (`count` elements of `dtype`; F16 and BF16 widened
 * to float32), as `readSafetensors` does for each tensor. For readers that fetch tensors one at a
 * time (`loadSafetensors` on a local file).
 */
export function decodeSafetensorsData(dtype: SafetensorsDtype, bytes: Uint8Array, count: number): SafetensorsData {
  if (bytes.length !== count * BYTES_PER_ELEMENT[dtype]) {
    throw new SafetensorsError(`${bytes.length} bytes do not hold ${count} ${dtype} elements`);
  }
  return decode(dtype, bytes, count);
}
