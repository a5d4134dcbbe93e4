/** The optional package that provides the CUDA backend. */
export const CUDA_PACKAGE = '@tensorflow/tfjs-node-gpu';

/**
 * Registers the CUDA backend from `@tensorflow/tfjs-node-gpu` (tfjs backend name `tensorflow`).
 * The package is an optional peer dependency, imported only when asked for; its absence gives an
 * error that names it and says how to install it.
 */
export async function loadCuda(): Promise<string> {
  try {
    await import(/* @vite-ignore */ CUDA_PACKAGE);
  } catch (error) {
    throw new Error(
      `The cuda backend needs the optional package ${CUDA_PACKAGE}, which could not be loaded ` +
        `(${(error as Error).message.split('\n')[0]}). Install it with: npm i ${CUDA_PACKAGE}`,
    );
  }
  return 'tensorflow';
}
