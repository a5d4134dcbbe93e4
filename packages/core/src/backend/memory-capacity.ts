/**
 * How much tensor memory the active backend can hold, as far as it can be known up front: the
 * wasm heap's fixed limit, the machine's memory for cpu, the device's buffer limits for WebGPU.
 * Pipelines compare their estimate of a step, or their memory plan, with it before allocating
 * anything.
 */
import * as tf from '@tensorflow/tfjs-core';

/** What the active backend can hold. */
export interface MemoryCapacity {
  /** The tfjs backend name (`wasm`, `cpu`, `webgpu`, `tensorflow` for cuda). */
  backend: string;
  /** Bytes of tensors it can hold in all (`Infinity` when unknown). */
  totalBytes: number;
  /** Bytes of the largest single tensor (`Infinity` when unknown). */
  maxTensorBytes: number;
  /** Where the limits come from, for error messages. */
  description: string;
}

/**
 * The wasm backend's heap limit: 65,535 pages of 64 KiB (4 GiB - 64 KiB), the most a 32-bit
 * WebAssembly memory reaches (tfjs-backend-wasm 4.22 grows its heap up to it). Measured here: the
 * heap stops at 4,095.94 MiB; 4,095 MiB of 1 MiB tensors or 4,032 MiB of 64 MiB tensors fit (the
 * rest is the module's own data and fragmentation). Past it tfjs-backend-wasm does not fail: the
 * allocator returns offset 0 and new tensors silently overwrite old ones, so a plan must stay below.
 */
export const WASM_HEAP_LIMIT_BYTES = 65_535 * 65_536;

/** The longest typed array V8 allows (2^32 elements); a cpu tensor lives in one. */
const MAX_TYPED_ARRAY_BYTES = 2 ** 32 * 4;

interface WebgpuLimits {
  maxBufferSize?: number;
  maxStorageBufferBindingSize?: number;
}

function machineMemory(): number | undefined {
  const node = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
  const os = node?.getBuiltinModule?.('node:os') as { totalmem?: () => number } | undefined;
  if (typeof os?.totalmem === 'function') return os.totalmem();
  const deviceMemory = (globalThis as { navigator?: { deviceMemory?: number } }).navigator?.deviceMemory;
  return typeof deviceMemory === 'number' ? deviceMemory * 2 ** 30 : undefined;
}

/** The capacity of the active tfjs backend (or of `backend`, a tfjs backend name). */
export function memoryCapacity(backend: string = tf.getBackend()): MemoryCapacity {
  switch (backend) {
    case 'wasm':
      return {
        backend,
        totalBytes: WASM_HEAP_LIMIT_BYTES,
        maxTensorBytes: WASM_HEAP_LIMIT_BYTES,
        description: 'the wasm heap holds at most 4 GiB - 64 KiB, the 65,535 pages of a 32-bit WebAssembly memory',
      };
    case 'cpu': {
      const total = machineMemory();
      return {
        backend,
        totalBytes: total ?? Number.POSITIVE_INFINITY,
        maxTensorBytes: MAX_TYPED_ARRAY_BYTES,
        description:
          total === undefined
            ? 'a cpu tensor is one typed array of at most 2^32 elements'
            : `this machine has ${(total / 2 ** 30).toFixed(1)} GiB of memory and a cpu tensor is one typed array of at most 2^32 elements`,
      };
    }
    case 'webgpu': {
      const limits = (tf.findBackend('webgpu') as { device?: { limits?: WebgpuLimits } } | null)?.device?.limits;
      const largest = Math.min(
        limits?.maxBufferSize ?? Number.POSITIVE_INFINITY,
        limits?.maxStorageBufferBindingSize ?? Number.POSITIVE_INFINITY,
      );
      return {
        backend,
        totalBytes: Number.POSITIVE_INFINITY,
        maxTensorBytes: largest,
        description: Number.isFinite(largest)
          ? `the WebGPU device binds buffers of at most ${largest} bytes`
          : 'the WebGPU device limits are unknown',
      };
    }
    default:
      return {
        backend,
        totalBytes: Number.POSITIVE_INFINITY,
        maxTensorBytes: Number.POSITIVE_INFINITY,
        description: `the ${backend} backend's memory is not known up front`,
      };
  }
}
