/**
 * What every native kernel needs from tfjs' wasm backend: its heap, tensor offsets into it, and
 * output allocation, plus the call counters the tests read.
 */
import type * as tf from '@tensorflow/tfjs-core';

import { loadedNativeAddon, type NativeAddon } from './addon.js';

/** What tfjs passes to a kernel function. */
export type KernelArgs = Parameters<tf.KernelFunc>[0];
/** A native kernel: the output, or undefined to hand the call to the kernel registered before. */
export type NativeKernel = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[] | undefined;
export type DataId = tf.TensorInfo['dataId'];

/** The parts of tfjs-backend-wasm 4.22's `BackendWasm` these kernels use. */
export interface WasmBackend {
  wasm: {
    /** The heap as float32s; replaced by Emscripten whenever the memory grows. */
    HEAPF32: Float32Array;
    /** The memory itself (exported by the threaded build, whose views can lag a growth on another thread). */
    wasmMemory?: { buffer: ArrayBufferLike };
  };
  dataIdMap: { get(dataId: DataId): { memoryOffset: number | null } | undefined };
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): tf.TensorInfo;
  disposeData(dataId: DataId, force?: boolean): boolean;
  /** Adds a reference to the data (for kernels whose output shares its input's data). */
  incRef(dataId: DataId): void;
}

/** The tfjs backend these kernels are for. */
export const BACKEND = 'wasm';

/** Views `backend` as the wasm backend, or undefined when it is something else. */
export function asWasmBackend(backend: unknown): WasmBackend | undefined {
  const candidate = backend as Partial<WasmBackend> | null | undefined;
  if (
    candidate == null ||
    typeof candidate.makeOutput !== 'function' ||
    typeof candidate.disposeData !== 'function' ||
    typeof candidate.incRef !== 'function' ||
    typeof candidate.dataIdMap?.get !== 'function' ||
    !(candidate.wasm?.HEAPF32 instanceof Float32Array)
  ) {
    return undefined;
  }
  return candidate as WasmBackend;
}

/** The current heap; take it after the last allocation (an allocation may grow, and so replace, it). */
export function heapOf(backend: WasmBackend): Float32Array {
  const { HEAPF32, wasmMemory } = backend.wasm;
  if (wasmMemory !== undefined && wasmMemory.buffer !== HEAPF32.buffer) return new Float32Array(wasmMemory.buffer);
  return HEAPF32;
}

/** A tensor's offset into the heap in float32 elements, or undefined when it has none usable. */
export function elementOffset(backend: WasmBackend, info: tf.TensorInfo): number | undefined {
  const memoryOffset = backend.dataIdMap.get(info.dataId)?.memoryOffset;
  if (typeof memoryOffset !== 'number' || memoryOffset % 4 !== 0) return undefined;
  return memoryOffset / 4;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((product, length) => product * length, 1);
}

export function isFloat32(...infos: Array<tf.TensorInfo | undefined>): boolean {
  return infos.every((info) => info === undefined || info.dtype === 'float32');
}

/**
 * Whether `bias` adds one value per output channel / column: `size` values, laid out along the
 * last axis (leading axes all 1), and no higher rank than the output (so it does not widen it).
 */
export function isChannelBias(bias: tf.TensorInfo, size: number, outputRank: number): boolean {
  const { shape } = bias;
  return shape.length >= 1 && shape.length <= outputRank && shape[shape.length - 1] === size && sizeOf(shape) === size;
}

/** Calls of the addon, by kernel name (read by the tests, to tell native runs from fallbacks). */
const nativeCalls = new Map<string, number>();

/** @internal How many times the kernel `name` ran natively in this process (for tests). */
export function nativeKernelCallCount(name: string): number {
  return nativeCalls.get(name) ?? 0;
}

/** Counts one native run of the kernel `name`. */
export function countNativeCall(name: string): void {
  nativeCalls.set(name, (nativeCalls.get(name) ?? 0) + 1);
}

/**
 * Allocates the outputs, then runs `compute` on the heap as it is after those allocations (an
 * allocation may grow, and so replace, it) with the outputs' offsets. The outputs are released
 * again if the addon throws.
 */
export function runNativeOutputs(
  name: string,
  backend: WasmBackend,
  shapes: number[][],
  compute: (addon: NativeAddon, heap: Float32Array, outputOffsets: number[]) => void,
  dtype: 'float32' | 'int32' = 'float32',
): tf.TensorInfo[] | undefined {
  const addon = loadedNativeAddon();
  if (addon === undefined) return undefined;
  const outputs = shapes.map((shape) => backend.makeOutput(shape, dtype));
  try {
    const offsets = outputs.map((output) => elementOffset(backend, output));
    if (offsets.some((offset) => offset === undefined))
      throw new Error(`${name} (@diffusion-ts/native): the wasm backend gave an output no heap offset`);
    compute(addon, heapOf(backend), offsets as number[]);
  } catch (error) {
    for (const output of outputs) backend.disposeData(output.dataId);
    throw error;
  }
  countNativeCall(name);
  return outputs;
}

/** `runNativeOutputs` for a kernel with one output. */
export function runNative(
  name: string,
  backend: WasmBackend,
  shape: number[],
  compute: (addon: NativeAddon, heap: Float32Array, outputOffset: number) => void,
  dtype: 'float32' | 'int32' = 'float32',
): tf.TensorInfo | undefined {
  return runNativeOutputs(name, backend, [shape], (addon, heap, [offset]) => compute(addon, heap, offset), dtype)?.[0];
}
