/**
 * `@diffusion-ts/native`: native (AVX-512 / AVX2+FMA GEMM) convolution and matMul kernels for
 * tfjs' wasm backend in Node. `@diffusion-ts/core`'s `initBackend('wasm')` registers them when
 * this package is installed and built; the functions here do it by hand.
 *
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * import { loadNativeAddon, registerNativeWasmKernels } from '@diffusion-ts/native';
 *
 * await loadNativeAddon();
 * registerNativeWasmKernels(); // wasm's Conv2D, FusedConv2D, conv gradients and matMuls now run natively
 * ```
 *
 * @packageDocumentation
 */

export {
  /**
   * Loads the Node-API addon (`build/diffusion_native.node`) once and resolves to it; later calls
   * resolve to the same object. Rejects with an Error naming the file and how to build it
   * (`pnpm --filter @diffusion-ts/native build`, which needs a C++ compiler) when it is missing
   * or does not load, and outside Node. The kernels need it loaded before they can be registered.
   */
  loadNativeAddon,
  /**
   * Whether the addon is loaded in this process, with its GEMM's instruction set and thread count,
   * or the reason it is not (not loaded yet, not built, failed to load). Loads nothing.
   */
  nativeAddonStatus,
  /** The addon's synchronous functions: GEMM, conv2d and both conv2d gradients on a Float32Array heap. */
  type NativeAddon,
  /** What `nativeAddonStatus` reports. */
  type NativeAddonStatus,
  /** The instruction set the addon's GEMM runs on. */
  type NativeIsa,
} from './addon.js';

export {
  /**
   * Registers the native kernels for tfjs' wasm backend (`Conv2D`, `FusedConv2D`,
   * `Conv2DBackpropInput`, `Conv2DBackpropFilter`, `BatchMatMul`, `_FusedMatMul`) over the ones
   * registered now, which stay as fallbacks for the cases the addon does not cover (NCHW,
   * activations other than linear, other dtypes, unusual broadcasting). Call it after
   * `@tensorflow/tfjs-backend-wasm` has been imported and `await loadNativeAddon()` has resolved,
   * before or after `tf.setBackend('wasm')`. Idempotent. Returns false, registering nothing,
   * when the wasm backend package is not loaded or the addon is not loaded.
   */
  registerNativeWasmKernels,
  /**
   * Restores the kernels that were registered before `registerNativeWasmKernels` (kernels that
   * have replaced ours since are left alone). Idempotent.
   */
  unregisterNativeWasmKernels,
  /** Whether all six native kernels are the ones the wasm backend runs now. */
  nativeWasmKernelsRegistered,
} from './kernel-registry.js';

export {
  /**
   * This machine's fp32 peak in GFLOP/s, measured with FMA chains in the widest vectors on every
   * thread (what the benchmarks' "% of peak" divides by).
   */
  measureMachinePeak,
  /** What `measureMachinePeak` reports. */
  type MachinePeak,
} from './machine-peak.js';
