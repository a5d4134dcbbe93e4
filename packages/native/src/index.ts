/**
 * `@diffusion-ts/native`: native (AVX-512 / AVX2+FMA) kernels for tfjs' wasm backend in Node, 27
 * of them: convolutions and both their gradients, matMuls, elementwise arithmetic and sums, data
 * copies, and the fused SiLU, GroupNorm and AdamW kernels core's ops run. `@diffusion-ts/core`'s
 * `initBackend('wasm')` registers them when this package is installed; the functions here do it
 * by hand. The addon is the prebuilt linux-x64 binary the package ships, or the one compiled at
 * install elsewhere.
 *
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * import { loadNativeAddon, registerNativeWasmKernels } from '@diffusion-ts/native';
 *
 * await loadNativeAddon();
 * registerNativeWasmKernels(); // wasm's convolutions, matMuls, elementwise ops and copies now run natively
 * ```
 *
 * The fused kernels' names and attribute types are at `@diffusion-ts/native/fused-kernels`.
 *
 * @packageDocumentation
 */

export {
  /**
   * Loads the Node-API addon once and resolves to it; later calls resolve to the same object. It
   * loads this platform's prebuilt binary (`prebuilds/<platform>-<arch>/`) when one fits, else the
   * one the install script compiled (`build/diffusion_native.node`). Rejects with an Error naming
   * every binary tried and why, and how to compile one (`npm rebuild @diffusion-ts/native`, which
   * needs a C++ compiler), when none loads, and outside Node. The kernels need it loaded before
   * they can be registered.
   */
  loadNativeAddon,
  /**
   * Whether the addon is loaded in this process, with its GEMM's instruction set, thread count and
   * the binary file loaded, or the reason it is not (not loaded yet, no binary loads). Loads nothing.
   */
  nativeAddonStatus,
  /**
   * The addon's synchronous functions on a Float32Array heap: GEMM, conv2d and both its gradients,
   * elementwise binary and unary ops, sums, AddN, GroupNorm, the AdamW update, concat, slice and
   * tile, plus its thread count and a peak-throughput measurement.
   */
  type NativeAddon,
  /** What `nativeAddonStatus` reports. */
  type NativeAddonStatus,
  /** The instruction set the addon's GEMM runs on. */
  type NativeIsa,
} from './addon.js';

export {
  /**
   * Registers the 27 native kernels for tfjs' wasm backend over the ones registered now, which
   * stay as fallbacks for the cases the addon does not cover (NCHW, activations other than
   * linear, other dtypes, unusual broadcasting): `Conv2D`, `FusedConv2D`, `Conv2DBackpropInput`,
   * `Conv2DBackpropFilter`, `BatchMatMul`, `_FusedMatMul`; `Add`, `Sub`, `Multiply`, `RealDiv`,
   * `Square`, `Sqrt`, `Rsqrt`, `Neg`, `Sigmoid`, `Sum`, `AddN`, `Identity`, `Cast`; `Concat`,
   * `Slice`, `SplitV`, `Tile`; and the fused `DiffusionTsSilu`, `DiffusionTsSiluGrad`,
   * `DiffusionTsGroupNorm` and `DiffusionTsAdamWUpdate`. Call it after
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
  /** Whether all 27 native kernels are the ones the wasm backend runs now. */
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
