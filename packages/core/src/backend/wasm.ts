import { registerWasmTrainingKernels } from './kernels/index.js';

/**
 * Registers tfjs' wasm backend (SIMD; one thread in Node) together with diffusion-ts' training
 * kernels (conv weight and input gradients, `UnsortedSegmentSum`), which tfjs wasm lacks.
 */
export async function loadWasm(): Promise<string> {
  await import('@tensorflow/tfjs-backend-wasm');
  registerWasmTrainingKernels();
  return 'wasm';
}
