import * as tf from '@tensorflow/tfjs-core';
import { loadCpu } from './cpu.js';
import { CUDA_PACKAGE, loadCuda } from './cuda.js';
import { wasmTrainingKernelsRegistered } from './kernels/index.js';
import { loadWasm } from './wasm.js';
import { isSoftwareAdapter, loadWebgpu, probeWebgpu, type AdapterDescription } from './webgpu.js';

/** A backend diffusion-ts can run on. */
export type BackendName = 'webgpu' | 'cuda' | 'wasm' | 'cpu';

/** Every backend name, in `auto`'s order of preference. */
export const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'cuda', 'wasm', 'cpu'];

/** What a backend can do here. */
export interface BackendInfo {
  name: BackendName;
  /** Whether it can be initialised in this environment. */
  available: boolean;
  /** Why it is unavailable (or a caveat, such as a software adapter). */
  reason?: string;
  /** Whether training (every gradient the UNet needs) works on it. */
  canTrain: boolean;
  /** Why it cannot train. */
  trainReason?: string;
  /** The WebGPU adapter, for `webgpu`. */
  adapter?: AdapterDescription;
  /** For `webgpu`: a software emulation that `auto` never picks. */
  software?: boolean;
}

const LOADERS: Record<BackendName, () => Promise<string>> = {
  cpu: loadCpu,
  wasm: loadWasm,
  webgpu: loadWebgpu,
  cuda: loadCuda,
};

/** The tfjs name of each backend once loaded. */
const TFJS_NAMES: Record<BackendName, string> = { cpu: 'cpu', wasm: 'wasm', webgpu: 'webgpu', cuda: 'tensorflow' };

/** Registers tfjs-core's gradient functions (training needs them; the import is idempotent). */
export async function registerGradients(): Promise<void> {
  await import('./register-gradients.js');
}

function checkName(name: string): asserts name is BackendName | 'auto' {
  if (name !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new Error(`Unknown backend '${name}': expected one of auto, ${BACKEND_NAMES.join(', ')}`);
  }
}

async function probe(name: BackendName): Promise<BackendInfo> {
  switch (name) {
    case 'cpu':
      return { name, available: true, canTrain: true };
    case 'wasm': {
      const hasWasm = typeof WebAssembly === 'object';
      return hasWasm
        ? { name, available: true, canTrain: true }
        : { name, available: false, reason: 'WebAssembly is not supported here', canTrain: false };
    }
    case 'webgpu': {
      const { adapter, reason } = await probeWebgpu();
      if (!adapter) return { name, available: false, reason, canTrain: false };
      const software = isSoftwareAdapter(adapter);
      return {
        name,
        available: true,
        adapter,
        software,
        reason: software ? `software adapter (${adapter.architecture || adapter.description}): slow, never chosen by auto` : undefined,
        canTrain: true,
      };
    }
    case 'cuda':
      try {
        await import(/* @vite-ignore */ CUDA_PACKAGE);
        return { name, available: true, canTrain: true };
      } catch {
        return { name, available: false, reason: `optional package ${CUDA_PACKAGE} is not installed`, canTrain: false };
      }
  }
}

/** Reports every backend: available or not (with the reason), and whether it can train. */
export async function listBackends(): Promise<BackendInfo[]> {
  return Promise.all(BACKEND_NAMES.map(probe));
}

/** The backend `auto` picks: a hardware WebGPU adapter, then cuda, then wasm, then cpu. */
export async function chooseBackend(): Promise<BackendName> {
  for (const info of await listBackends()) {
    if (info.available && !info.software) return info.name;
  }
  return 'cpu';
}

/**
 * Selects and initialises a backend, returning its name. `auto` prefers a hardware WebGPU
 * adapter, then cuda, then wasm, then cpu. Asking for an unavailable backend throws an error
 * that says why (for cuda: which package to install).
 */
export async function initBackend(name: BackendName | 'auto' = 'auto'): Promise<BackendName> {
  checkName(name);
  await registerGradients();
  const chosen = name === 'auto' ? await chooseBackend() : name;
  const tfName = await LOADERS[chosen]();
  const ok = await tf.setBackend(tfName);
  if (!ok) throw new Error(`initBackend: backend '${chosen}' failed to initialise`);
  await tf.ready();
  return chosen;
}

/** The diffusion-ts name of the active tfjs backend. */
export function currentBackend(): BackendName {
  const active = tf.getBackend();
  const entry = (Object.entries(TFJS_NAMES) as [BackendName, string][]).find(([, tfName]) => tfName === active);
  if (!entry) throw new Error(`The active tfjs backend '${active}' is not one diffusion-ts manages`);
  return entry[0];
}

/** Why the active (or named) backend cannot train, or undefined when it can. */
export function trainingGap(name: BackendName = currentBackend()): string | undefined {
  if (name === 'wasm' && !wasmTrainingKernelsRegistered()) {
    return 'tfjs wasm lacks Conv2DBackpropFilter and UnsortedSegmentSum; initialise it with initBackend("wasm"), which registers them';
  }
  return undefined;
}

/** Whether the active (or named) backend can compute every gradient training needs. */
export function backendCanTrain(name?: BackendName): boolean {
  return trainingGap(name) === undefined;
}

/** Throws a clear error, before any work, when the active backend cannot train. */
export function assertCanTrain(name?: BackendName): void {
  const gap = trainingGap(name);
  if (gap) throw new Error(`Training is not possible on the ${name ?? currentBackend()} backend: ${gap}`);
}

/** Releases the active backend's resources (the WebGPU device, so that Node can exit). */
export function disposeBackend(): void {
  const active = tf.getBackend();
  if (active) tf.removeBackend(active);
}

function envList(variable: string): BackendName[] | undefined {
  const value = typeof process === 'undefined' ? undefined : process.env[variable];
  if (!value) return undefined;
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  names.forEach(checkName);
  return names as BackendName[];
}

let webgpuForTests: Promise<boolean> | undefined;

/** Whether a WebGPU adapter (software ones included) can be made in this process; cached. */
export function webgpuTestable(): Promise<boolean> {
  webgpuForTests ??= probeWebgpu().then((result) => result.adapter !== undefined);
  return webgpuForTests;
}

/**
 * Backends every package's test suites run on: cpu and wasm (override with
 * `DIFFUSION_TS_TEST_BACKENDS=cpu,wasm,…`). WebGPU in CI is SwiftShader (~0.2 GFLOP/s), so only
 * the backend contract suite runs there by default (see `contractBackendNames`).
 */
export function testBackendNames(): BackendName[] {
  return envList('DIFFUSION_TS_TEST_BACKENDS') ?? ['cpu', 'wasm'];
}

/** Backends the backend contract suite runs on: cpu, wasm, webgpu when an adapter exists, cuda when installed. */
export async function contractBackendNames(): Promise<BackendName[]> {
  const names: BackendName[] = ['cpu', 'wasm'];
  if (await webgpuTestable()) names.push('webgpu');
  if ((await probe('cuda')).available) names.push('cuda');
  return names;
}
