/**
 * The Node-API addon that holds the native kernels: its functions, and loading it once (the
 * prebuilt binary the package ships, else the one compiled at install; see `addon-binary.ts`).
 */
import { requireAddonBinary } from './addon-binary.js';

/** The instruction set the addon's GEMM picked at load (`DIFFUSION_TS_NATIVE_ISA` can force a lower one). */
export type NativeIsa = 'avx512' | 'avx2-fma' | 'generic';

/**
 * The addon's functions. All are synchronous. `heap` is a Float32Array (in practice the wasm
 * backend's heap); every offset and stride is in float32 elements into it. Sizes are plain
 * numbers, flags booleans, and a bias offset of -1 means "no bias". The addon checks every
 * region against `heap.length` and throws a RangeError instead of touching memory outside it.
 */
export interface NativeAddon {
  /** The GEMM's instruction set and the thread count in use. */
  info(): { isa: NativeIsa; threads: number };
  /** Sets the thread count (1 to 64; 1 runs on the calling thread only). */
  setThreads(threads: number): void;
  /**
   * This CPU's fp32 throughput in GFLOP/s: independent FMA chains in the widest vectors it has
   * (AVX-512, AVX2 or scalar), on `threads` threads at once for about `milliseconds` each. What
   * benchmarks divide by for "% of peak".
   */
  measurePeak(threads: number, milliseconds: number): number;
  /**
   * out[i] = a[i mod na] op b[i mod nb] for i < n (op 0 add, 1 sub, 2 mul, 3 div, 4 the SiLU
   * gradient with a = x and b = dy); na and nb each n, 1 or a period dividing n, one of them n.
   */
  binary(heap: Float32Array, op: number, aOff: number, na: number, bOff: number, nb: number, outOff: number, n: number): void;
  /** out[i] = op(x[i]) for i < n (op 0 square, 1 sqrt, 2 rsqrt, 3 neg, 4 sigmoid, 5 silu). */
  unary(heap: Float32Array, op: number, xOff: number, outOff: number, n: number): void;
  /**
   * Sums of the row-major [outer, inner] matrix at xOff, accumulated in double: over its rows
   * (inner results) when `overRows`, else along each row (outer results).
   */
  reduceSum(heap: Float32Array, xOff: number, outOff: number, outer: number, inner: number, overRows: boolean): void;
  /**
   * GroupNorm of `batch` images of [pixels, channels] at xOff, `groups` groups of consecutive
   * channels: centered = x - group mean, inverseStd [batch, channels] = 1 / √(group variance + ε)
   * (biased, two-pass, double sums), out = centered · inverseStd · gamma + beta.
   */
  groupNorm(
    heap: Float32Array,
    xOff: number,
    gammaOff: number,
    betaOff: number,
    outOff: number,
    centeredOff: number,
    inverseStdOff: number,
    batch: number,
    pixels: number,
    channels: number,
    groups: number,
    epsilon: number,
  ): void;
  /** out = the sum of the n-element tensors at `offsets`. */
  addN(heap: Float32Array, offsets: readonly number[], outOff: number, n: number): void;
  /**
   * One AdamW update of n elements (PyTorch's order, float32 arithmetic): m' = β1 m + (1-β1) g,
   * v' = β2 v + (1-β2) g², w' = w (1 - lr λ) - (lr / c1) m' / (√v' / √c2 + ε), written to the out offsets.
   */
  adamUpdate(
    heap: Float32Array,
    wOff: number,
    gOff: number,
    mOff: number,
    vOff: number,
    outWOff: number,
    outMOff: number,
    outVOff: number,
    n: number,
    learningRate: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    weightDecay: number,
    correction1: number,
    correction2: number,
  ): void;
  /**
   * Concatenation of 4-byte elements: for each of `outer` rows, output row o (at outOff) is input
   * i's row o (inner[i] elements at offsets[i] + o·inner[i]) for every i, one after another.
   */
  concat(heap: Float32Array, outOff: number, outer: number, offsets: readonly number[], inner: readonly number[]): void;
  /** Copies the box [begin, begin + size) of the row-major tensor of `shape` at inOff to outOff (rank ≤ 8). */
  slice(
    heap: Float32Array,
    inOff: number,
    outOff: number,
    shape: readonly number[],
    begin: readonly number[],
    size: readonly number[],
  ): void;
  /** Writes the tensor of `shape` at inOff repeated reps[d] times along each dimension d to outOff (rank ≤ 8). */
  tile(heap: Float32Array, inOff: number, outOff: number, shape: readonly number[], reps: readonly number[]): void;
  /**
   * For b < batch: C_b (M×N row-major, at cOff + b·strideC) = op(A_b)·op(B_b) (+ bias[N] added to
   * every row when biasOff >= 0). A_b starts at aOff + b·strideA and is M×K row-major (K×M when
   * transA); B_b starts at bOff + b·strideB and is K×N (N×K when transB). Strides may be 0
   * (broadcast).
   */
  gemm(
    heap: Float32Array,
    batch: number,
    M: number,
    N: number,
    K: number,
    transA: boolean,
    transB: boolean,
    aOff: number,
    bOff: number,
    cOff: number,
    strideA: number,
    strideB: number,
    strideC: number,
    biasOff: number,
  ): void;
  /** y [N,outH,outW,Cout] = conv(x [N,H,W,Cin], filter [KH,KW,Cin,Cout]) (+ bias[Cout] when biasOff >= 0). */
  conv2d(
    heap: Float32Array,
    xOff: number,
    wOff: number,
    yOff: number,
    biasOff: number,
    N: number,
    H: number,
    W: number,
    Cin: number,
    KH: number,
    KW: number,
    Cout: number,
    strideH: number,
    strideW: number,
    dilationH: number,
    dilationW: number,
    padTop: number,
    padLeft: number,
    outH: number,
    outW: number,
  ): void;
  /** dx [N,H,W,Cin] (overwritten) = the input gradient of conv2d, from dy [N,outH,outW,Cout] and the filter. */
  conv2dBackpropInput(
    heap: Float32Array,
    dyOff: number,
    wOff: number,
    dxOff: number,
    N: number,
    H: number,
    W: number,
    Cin: number,
    KH: number,
    KW: number,
    Cout: number,
    strideH: number,
    strideW: number,
    dilationH: number,
    dilationW: number,
    padTop: number,
    padLeft: number,
    outH: number,
    outW: number,
  ): void;
  /** dw [KH,KW,Cin,Cout] (overwritten) = the filter gradient of conv2d, from x and dy. */
  conv2dBackpropFilter(
    heap: Float32Array,
    xOff: number,
    dyOff: number,
    dwOff: number,
    N: number,
    H: number,
    W: number,
    Cin: number,
    KH: number,
    KW: number,
    Cout: number,
    strideH: number,
    strideW: number,
    dilationH: number,
    dilationW: number,
    padTop: number,
    padLeft: number,
    outH: number,
    outW: number,
  ): void;
}

/** Whether the addon is loaded here, and why not. */
export interface NativeAddonStatus {
  /** `loadNativeAddon()` has succeeded in this process. */
  available: boolean;
  /** Why it is not available (not loaded yet, not built, failed to load, not Node). */
  reason?: string;
  /** The GEMM's instruction set. */
  isa?: string;
  /** The addon's thread count. */
  threads?: number;
  /** The binary file loaded: a prebuilt one (under `prebuilds/`) or the one compiled at install (under `build/`). */
  binary?: string;
}

/** How to build the addon, for error messages. */
const BUILD_HINT =
  'Compile it with `npm rebuild @diffusion-ts/native` (in this repository: `pnpm --filter @diffusion-ts/native build`); ' +
  'that needs a C++ compiler (g++ or clang++)';

/** Every function of `NativeAddon`: a binary that lacks one is out of date. */
const REQUIRED_FUNCTIONS: ReadonlyArray<keyof NativeAddon> = [
  'info',
  'setThreads',
  'measurePeak',
  'binary',
  'unary',
  'reduceSum',
  'groupNorm',
  'addN',
  'adamUpdate',
  'concat',
  'slice',
  'tile',
  'gemm',
  'conv2d',
  'conv2dBackpropInput',
  'conv2dBackpropFilter',
];

let loaded: NativeAddon | undefined;
let loadedFrom: string | undefined;
let pending: Promise<NativeAddon> | undefined;
let failure: string | undefined;

function isNode(): boolean {
  return typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === 'string';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Why `exports` is not a current addon (it lacks some of its functions), or undefined. */
function outdated(exports: unknown): string | undefined {
  const addon = (exports ?? {}) as Partial<Record<keyof NativeAddon, unknown>>;
  const missing = REQUIRED_FUNCTIONS.filter((name) => typeof addon[name] !== 'function');
  return missing.length === 0 ? undefined : `is out of date (it lacks ${missing.join(', ')})`;
}

async function load(): Promise<{ addon: NativeAddon; file: string }> {
  if (!isNode()) throw new Error('@diffusion-ts/native: the native addon runs in Node only');
  try {
    const { exports, binary } = await requireAddonBinary(outdated);
    return { addon: exports as NativeAddon, file: binary.file };
  } catch (error) {
    throw new Error(`@diffusion-ts/native: no native addon binary loads here: ${messageOf(error)}. ${BUILD_HINT}.`, { cause: error });
  }
}

/**
 * Loads the native addon once (later calls return the same object): the prebuilt binary when one
 * fits this system, else the one compiled at install. Rejects with an Error that names every
 * binary tried and how to compile one when none loads; a failed load is retried on the next call
 * (so building it later in the same process works).
 */
export function loadNativeAddon(): Promise<NativeAddon> {
  if (loaded) return Promise.resolve(loaded);
  pending ??= load().then(
    ({ addon, file }) => {
      loaded = addon;
      loadedFrom = file;
      failure = undefined;
      return addon;
    },
    (error: unknown) => {
      pending = undefined;
      failure = messageOf(error);
      throw error;
    },
  );
  return pending;
}

/** The addon if `loadNativeAddon()` has succeeded, else undefined (never loads anything). */
export function loadedNativeAddon(): NativeAddon | undefined {
  return loaded;
}

/** Whether the addon is loaded, its instruction set and thread count, or why it is not available. */
export function nativeAddonStatus(): NativeAddonStatus {
  if (loaded) {
    const { isa, threads } = loaded.info();
    return { available: true, isa, threads, binary: loadedFrom };
  }
  if (failure !== undefined) return { available: false, reason: failure };
  if (!isNode()) return { available: false, reason: '@diffusion-ts/native: the native addon runs in Node only' };
  return { available: false, reason: 'the native addon has not been loaded yet (await loadNativeAddon())' };
}
