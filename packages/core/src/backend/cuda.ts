import { importBackendPackage } from './backend-error.js';

/** The optional package that provides the CUDA backend. */
export const CUDA_PACKAGE = '@tensorflow/tfjs-node-gpu';

/**
 * Registers the CUDA backend from `@tensorflow/tfjs-node-gpu` (tfjs backend name `tensorflow`).
 * The package is an optional peer dependency, imported only when asked for (never bundled); its
 * absence gives a `BackendError` that names it and says how to install it.
 */
export async function loadCuda(): Promise<string> {
  await importBackendPackage('cuda', CUDA_PACKAGE, () => import(/* @vite-ignore */ CUDA_PACKAGE));
  return 'tensorflow';
}
