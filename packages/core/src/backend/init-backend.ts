import * as tf from '@tensorflow/tfjs-core';

/** A backend diffusion-ts can run on. `auto` picks the best available one. */
export type BackendName = 'webgpu' | 'cuda' | 'wasm' | 'cpu';

/** Registers the backend's tfjs package (imported lazily) and returns the tfjs backend name. */
async function register(name: BackendName): Promise<string> {
  switch (name) {
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      return 'cpu';
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      return 'wasm';
    default:
      throw new Error(`initBackend: backend '${name}' is not supported yet`);
  }
}

/** Registers tfjs-core's gradient functions (training needs them; the import is idempotent). */
export async function registerGradients(): Promise<void> {
  await import('./register-gradients.js');
}

/**
 * Selects and initialises a backend, returning its name. (Minimal version: cpu and wasm; the
 * full selection with webgpu and cuda lives here too once written.)
 */
export async function initBackend(name: BackendName | 'auto' = 'auto'): Promise<BackendName> {
  const chosen: BackendName = name === 'auto' ? 'wasm' : name;
  await registerGradients();
  const tfName = await register(chosen);
  const ok = await tf.setBackend(tfName);
  if (!ok) throw new Error(`initBackend: backend '${chosen}' failed to initialise`);
  await tf.ready();
  return chosen;
}

/** Backends the test suites run on: cpu and wasm always. */
export function testBackendNames(): BackendName[] {
  return ['cpu', 'wasm'];
}
