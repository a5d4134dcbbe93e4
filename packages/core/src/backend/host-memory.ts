/**
 * Moving tensors out of a backend's memory into host (JavaScript) memory while they are not
 * needed, so that a pipeline can keep only the model it is running on the wasm heap or the GPU
 * (what each backend can hold is `memoryCapacity`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadCpu } from './cpu.js';

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
