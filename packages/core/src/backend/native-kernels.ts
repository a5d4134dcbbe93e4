/** The optional package whose native kernels (AVX-512 / AVX2 GEMM) run wasm's convolutions and matMuls in Node. */
export const NATIVE_PACKAGE = '@diffusion-ts/native';

/** Whether the wasm backend runs its convolutions and matMuls natively, and why not. */
export interface NativeKernelsStatus {
  /** The native kernels are registered for the wasm backend. */
  active: boolean;
  /** Why they are not (not Node, not installed, not built, turned off). */
  reason?: string;
  /** The instruction set the native GEMM uses ("avx512", "avx2-fma" or "generic"). */
  isa?: string;
  /** Threads the native kernels run on. */
  threads?: number;
}

/** The part of `@diffusion-ts/native` that core uses (its own types; the package is imported at run time only when installed). */
type NativeModule = Pick<
  typeof import('@diffusion-ts/native'),
  'loadNativeAddon' | 'nativeAddonStatus' | 'registerNativeWasmKernels' | 'unregisterNativeWasmKernels'
>;

let native: NativeModule | undefined;
let wanted = true;
let status: NativeKernelsStatus = { active: false, reason: 'the wasm backend has not been loaded' };

function environment(): Record<string, string | undefined> {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
}

function isNode(): boolean {
  return typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Imports `@diffusion-ts/native` and loads its addon once; undefined (with `status` saying why) when it can't. */
async function loadNative(): Promise<NativeModule | undefined> {
  if (native) return native;
  if (!isNode()) {
    status = { active: false, reason: 'native kernels are for Node only' };
    return undefined;
  }
  let module: NativeModule;
  try {
    // A computed name: bundlers must not try to resolve this optional, Node-only package.
    const name = NATIVE_PACKAGE;
    module = (await import(/* @vite-ignore */ name)) as NativeModule;
  } catch {
    status = { active: false, reason: `${NATIVE_PACKAGE} is not installed (npm i ${NATIVE_PACKAGE} runs wasm's convolutions natively)` };
    return undefined;
  }
  try {
    await module.loadNativeAddon();
  } catch (error) {
    status = { active: false, reason: messageOf(error) };
    return undefined;
  }
  native = module;
  return native;
}

function activeStatus(module: NativeModule): NativeKernelsStatus {
  const { isa, threads } = module.nativeAddonStatus();
  return { active: true, ...(isa === undefined ? {} : { isa }), ...(threads === undefined ? {} : { threads }) };
}

/**
 * Registers the native kernels over the wasm backend's own (called when the wasm backend is
 * loaded, and again after `registerWasmTrainingKernels`), unless they were turned off with
 * `useNativeKernels(false)` or `DIFFUSION_TS_NATIVE=0`.
 */
export async function registerNativeKernels(): Promise<NativeKernelsStatus> {
  if (!wanted || environment()['DIFFUSION_TS_NATIVE'] === '0') {
    native?.unregisterNativeWasmKernels();
    status = { active: false, reason: wanted ? 'turned off by DIFFUSION_TS_NATIVE=0' : 'turned off by useNativeKernels(false)' };
    return status;
  }
  const module = await loadNative();
  if (!module) return status;
  status = module.registerNativeWasmKernels() ? activeStatus(module) : { active: false, reason: 'the wasm backend package is not loaded' };
  return status;
}

/** Re-registers the native kernels if they are active (after core's own wasm kernels were re-registered). */
export function reassertNativeKernels(): void {
  if (native && status.active) native.registerNativeWasmKernels();
}

/**
 * Turns the wasm backend's native kernels on (the default, when `@diffusion-ts/native` is
 * installed and built) or off (tfjs' own kernels, for comparisons); returns the new status.
 */
export async function useNativeKernels(enabled: boolean): Promise<NativeKernelsStatus> {
  wanted = enabled;
  return registerNativeKernels();
}

/**
 * Whether `@diffusion-ts/native` is installed and its addon loads here (without registering
 * anything); the status says why not.
 */
export async function probeNativeKernels(): Promise<NativeKernelsStatus> {
  const module = await loadNative();
  if (!module) return { ...status };
  return { ...activeStatus(module), active: status.active };
}

/** Sets the native kernels' thread count (1 to 64); throws when they are not loaded. */
export async function setNativeThreads(threads: number): Promise<void> {
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new RangeError(`setNativeThreads: threads must be an integer from 1 to 64, got ${threads}`);
  }
  const module = await loadNative();
  if (!module) throw new Error(`setNativeThreads: native kernels are unavailable: ${status.reason}`);
  (await module.loadNativeAddon()).setThreads(threads);
  if (status.active) status = activeStatus(module);
}

/** Whether the wasm backend's convolutions and matMuls run natively, and why not. */
export function nativeKernelsStatus(): NativeKernelsStatus {
  return { ...status };
}
