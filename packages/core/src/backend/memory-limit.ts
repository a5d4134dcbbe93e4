/**
 * How much tensor memory a backend can hold, and moving tensors out of a backend's memory into
 * host (JavaScript) memory while they are not needed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadCpu } from './cpu.js';

/**
 * The wasm backend's heap limit: 65,535 pages of 64 KiB (4 GiB - 64 KiB), the most a 32-bit
 * WebAssembly memory reaches (tfjs-backend-wasm 4.22 grows its heap up to it). Measured here: the
 * heap stops at 4,095.94 MiB; 4,095 MiB of 1 MiB tensors or 4,032 MiB of 64 MiB tensors fit (the
 * rest is the module's own data and fragmentation). Past it tfjs-backend-wasm does not fail: the
 * allocator returns offset 0 and new tensors silently overwrite old ones, so a plan must stay below.
 */
export const WASM_HEAP_LIMIT_BYTES = 65_535 * 65_536;

/** What a backend can hold. */
export interface BackendMemoryLimit {
  backend: string;
  /** Bytes all tensors together may take; `null` when unknown (GPU memory is not reported to WebGPU). */
  totalBytes: number | null;
  /** Bytes one tensor may take; `null` when unlimited in practice. */
  tensorBytes: number | null;
  /** Where the numbers come from. */
  source: string;
}

/** The WebGPU device limits tfjs' backend holds (`device.limits`). */
interface WebgpuLimits {
  maxBufferSize?: number;
  maxStorageBufferBindingSize?: number;
}

/**
 * The memory limit of `backend` (default: the current one). wasm: the heap limit; cpu (and
 * tensorflow in Node): the machine's memory in Node, unknown in browsers; webgpu: unknown in total,
 * per tensor the device's `maxStorageBufferBindingSize` (tfjs binds each tensor as one buffer).
 */
export async function backendMemoryLimit(backend: string = tf.getBackend()): Promise<BackendMemoryLimit> {
  switch (backend) {
    case 'wasm':
      return { backend, totalBytes: WASM_HEAP_LIMIT_BYTES, tensorBytes: null, source: '32-bit WebAssembly heap: 65,535 pages of 64 KiB' };
    case 'webgpu': {
      const found = tf.engine().registry.webgpu as unknown as { device?: { limits?: WebgpuLimits } } | undefined;
      const limits = found?.device?.limits;
      const perBinding = limits?.maxStorageBufferBindingSize ?? null;
      const perBuffer = limits?.maxBufferSize ?? null;
      const tensorBytes = perBinding === null ? perBuffer : perBuffer === null ? perBinding : Math.min(perBinding, perBuffer);
      return { backend, totalBytes: null, tensorBytes, source: 'WebGPU device limits (GPU memory itself is not reported)' };
    }
    default: {
      const host = await hostMemoryBytes();
      return { backend, totalBytes: host, tensorBytes: null, source: host === null ? 'unknown (not Node)' : "the machine's memory (os.totalmem)" };
    }
  }
}

async function hostMemoryBytes(): Promise<number | null> {
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!isNode) return null;
  const { totalmem } = await import('node:os');
  return totalmem();
}

/**
 * Moves the data of `tensors` (model weights, usually) out of the current backend into the cpu
 * backend's JavaScript memory, freeing the wasm heap or GPU memory they held. Nothing else changes:
 * tfjs moves each tensor back on its next use by a kernel (its own data mover), so a pipeline can
 * keep only the model it is running resident. A no-op on the cpu backend; registers it (its
 * package must be installed) when needed.
 */
export async function moveToHostMemory(tensors: readonly tf.Tensor[]): Promise<void> {
  const engine = tf.engine();
  const current = tf.getBackend();
  if (current === 'cpu') return;
  if (engine.registryFactory.cpu === undefined) await loadCpu();
  const cpu = engine.findBackend('cpu');
  if (cpu === null) throw new Error('moveToHostMemory: the cpu backend (@tensorflow/tfjs-backend-cpu) is not registered');
  for (const tensor of tensors) {
    if (tensor.isDisposed) continue;
    const info = engine.state.tensorInfo.get(tensor.dataId);
    if (info === undefined || info.backend === cpu) continue;
    engine.moveData(cpu, tensor.dataId);
  }
}
