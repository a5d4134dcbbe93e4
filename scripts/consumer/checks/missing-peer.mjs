// Asks core for the wasm backend in a project that did not install @tensorflow/tfjs-backend-wasm:
// the error must name the package to install.
import { initBackend } from '@diffusion-ts/core';

try {
  await initBackend('wasm');
  console.log('initBackend(wasm) succeeded without the package?');
  process.exit(1);
} catch (error) {
  console.log(`MESSAGE: ${error instanceof Error ? error.message : String(error)}`);
}
