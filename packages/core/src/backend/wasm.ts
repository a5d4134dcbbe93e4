import { BackendError, importBackendPackage } from './backend-error.js';
import { registerWasmTrainingKernels } from './kernels/index.js';
import { registerNativeKernels } from './native-kernels.js';

/** The package that provides the wasm backend. */
export const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

/**
 * Registers tfjs' wasm backend (SIMD; one thread in Node) together with diffusion-ts' training
 * kernels (conv weight and input gradients, `UnsortedSegmentSum`), which tfjs wasm lacks, and,
 * in Node when `@diffusion-ts/native` is installed, its native convolution and matMul kernels.
 * The .wasm binaries are loaded later, by `tf.setBackend('wasm')`.
 */
export async function loadWasm(): Promise<string> {
  if (typeof WebAssembly !== 'object') {
    throw new BackendError('wasm', 'unavailable', 'The wasm backend is unavailable: WebAssembly is not supported here');
  }
  await importBackendPackage('wasm', WASM_PACKAGE, () => import('@tensorflow/tfjs-backend-wasm'));
  registerWasmTrainingKernels();
  await registerNativeKernels();
  return 'wasm';
}
