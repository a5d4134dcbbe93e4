import { importBackendPackage } from './backend-error.js';

/** The package that provides the cpu backend. */
export const CPU_PACKAGE = '@tensorflow/tfjs-backend-cpu';

/** Registers tfjs' pure-JavaScript cpu backend (always available once its package is installed). */
export async function loadCpu(): Promise<string> {
  await importBackendPackage('cpu', CPU_PACKAGE, () => import('@tensorflow/tfjs-backend-cpu'));
  return 'cpu';
}
