// Consumer check for @diffusion-ts/native alone (tfjs-core, -backend-wasm and -backend-cpu from
// the registry; on linux-x64 the prebuilt binary from the tarball, with no compiler on PATH).
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { loadNativeAddon, nativeAddonStatus, nativeWasmKernelsRegistered, registerNativeWasmKernels } from '@diffusion-ts/native';
import { check, expect, finish } from './harness.mjs';

await check('loadNativeAddon', async () => {
  const addon = await loadNativeAddon();
  const status = nativeAddonStatus();
  expect(status.available && typeof addon.gemm === 'function', JSON.stringify(status));
  if (process.platform === 'linux' && process.arch === 'x64') {
    expect(/\/prebuilds\/linux-x64\/[^/]+\.node$/.test(status.binary ?? ''), `not the prebuilt binary: ${status.binary}`);
  }
  return `${status.isa}, ${status.threads} threads, ${status.binary?.split('/node_modules/').at(-1)}`;
});
await check('registerNativeWasmKernels', () => {
  expect(registerNativeWasmKernels() && nativeWasmKernelsRegistered(), 'kernels not registered');
});

/** conv2d + matMul on `backend`, as plain numbers. */
async function compute(backend) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(
      Array.from({ length: 2 * 5 * 5 * 3 }, (_, i) => Math.sin(i)),
      [2, 5, 5, 3],
    );
    const w = tf.tensor4d(
      Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i)),
      [3, 3, 3, 4],
    );
    const y = tf.conv2d(x, w, 1, 'same');
    return [...y.dataSync(), ...tf.matMul(tf.reshape(y, [50, 4]), tf.ones([4, 2])).dataSync()];
  });
}
await check('wasm with native kernels matches the cpu backend', async () => {
  const native = await compute('wasm');
  const reference = await compute('cpu');
  const worst = Math.max(...native.map((value, i) => Math.abs(value - reference[i])));
  expect(worst < 1e-4, `max abs error ${worst}`);
  return `max abs error ${worst.toExponential(2)}`;
});
finish();
