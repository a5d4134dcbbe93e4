import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from './backend-error.js';
import { loadCpu } from './cpu.js';
import { loadCuda } from './cuda.js';
import { loadWasm } from './wasm.js';
import { isSoftwareAdapter, loadWebgpu, probeWebgpu, releaseGpuDevice, type AdapterDescription, type WebgpuProbe } from './webgpu.js';

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
  /** For `webgpu`: the adapter's features and limits, and what the driver printed while probing. */
  webgpu?: Pick<WebgpuProbe, 'features' | 'limits' | 'notes'>;
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

/** Gradient kernels a UNet's training step needs beyond the forward ones (conv weights and inputs, gather). */
export const TRAINING_KERNELS: readonly string[] = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'UnsortedSegmentSum'];

/** Registers tfjs-core's gradient functions (training needs them; the import is idempotent). */
export async function registerGradients(): Promise<void> {
  await import('./register-gradients.js');
}

function checkName(name: string): asserts name is BackendName | 'auto' {
  if (name !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new BackendError(name, 'unknown-backend', `Unknown backend '${name}': expected one of auto, ${BACKEND_NAMES.join(', ')}`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The training kernels a loaded backend lacks (all of them when its package is not loaded). */
function missingTrainingKernels(name: BackendName): string[] {
  return TRAINING_KERNELS.filter((kernel) => tf.getKernel(kernel, TFJS_NAMES[name]) === undefined);
}

function trainingInfo(name: BackendName): Pick<BackendInfo, 'canTrain' | 'trainReason'> {
  const gap = trainingGap(name);
  return gap === undefined ? { canTrain: true } : { canTrain: false, trainReason: gap };
}

const UNAVAILABLE = 'the backend is unavailable here (see reason)';

/**
 * Probes one backend: whether it can be initialised here (with the reason when not), whether it
 * can train and, for webgpu, the adapter. Imports the backend's package but initialises nothing.
 */
export async function probeBackend(name: BackendName): Promise<BackendInfo> {
  let adapter: AdapterDescription | undefined;
  let webgpu: BackendInfo['webgpu'];
  if (name === 'webgpu') {
    const found = await probeWebgpu();
    webgpu = { features: found.features, limits: found.limits, notes: found.notes };
    if (!found.adapter) return { name, available: false, reason: found.reason, canTrain: false, trainReason: UNAVAILABLE, webgpu };
    adapter = found.adapter;
  }
  try {
    // Loading registers the package's kernels (and for wasm ours) without initialising the backend.
    await LOADERS[name]();
  } catch (error) {
    return {
      name,
      available: false,
      reason: messageOf(error),
      canTrain: false,
      trainReason: UNAVAILABLE,
      ...(adapter ? { adapter, webgpu } : {}),
    };
  }
  if (!adapter) return { name, available: true, ...trainingInfo(name) };
  const software = isSoftwareAdapter(adapter);
  return {
    name,
    available: true,
    adapter,
    webgpu,
    software,
    reason: software
      ? `software adapter (${adapter.architecture || adapter.description || adapter.vendor}): slow, never chosen by auto`
      : undefined,
    ...trainingInfo(name),
  };
}

/**
 * Reports every backend, in `auto`'s order: available or not (with the reason), whether it can
 * train (with the reason when not) and, for webgpu, the adapter. Probing imports each backend's
 * package (registering its kernels) but initialises none of them.
 */
export async function listBackends(): Promise<BackendInfo[]> {
  const infos: BackendInfo[] = [];
  for (const name of BACKEND_NAMES) infos.push(await probeBackend(name));
  return infos;
}

/**
 * `auto`'s rule applied to a capability report: the first available backend in `BACKEND_NAMES`
 * order, skipping a webgpu whose adapter is a software or fallback one; cpu when none is.
 */
export function pickAutoBackend(infos: readonly BackendInfo[]): BackendName {
  for (const name of BACKEND_NAMES) {
    const info = infos.find((candidate) => candidate.name === name);
    if (!info?.available) continue;
    if (name === 'webgpu' && (info.software || !info.adapter || isSoftwareAdapter(info.adapter))) continue;
    return name;
  }
  return 'cpu';
}

/** The backend `auto` picks here: a hardware WebGPU adapter, then cuda, then wasm, then cpu. */
export async function chooseBackend(): Promise<BackendName> {
  return pickAutoBackend(await listBackends());
}

/**
 * Selects and initialises a backend, returning its name. `auto` prefers a hardware WebGPU
 * adapter (never a software one such as SwiftShader), then cuda, then wasm, then cpu. An unknown
 * name or an unavailable backend throws a `BackendError` that says why (for a missing optional
 * package: which one and how to install it).
 */
export async function initBackend(name: BackendName | 'auto' = 'auto'): Promise<BackendName> {
  checkName(name);
  await registerGradients();
  const chosen = name === 'auto' ? await chooseBackend() : name;
  const tfName = await LOADERS[chosen]();
  let ok: boolean;
  try {
    ok = await tf.setBackend(tfName);
  } catch (error) {
    throw new BackendError(chosen, 'init-failed', `Backend '${chosen}' failed to initialise: ${messageOf(error)}`);
  }
  if (!ok) throw new BackendError(chosen, 'init-failed', `Backend '${chosen}' failed to initialise (see tfjs' warning above)`);
  await tf.ready();
  return chosen;
}

/** The diffusion-ts name of the active tfjs backend. */
export function currentBackend(): BackendName {
  const active = tf.getBackend();
  const entry = (Object.entries(TFJS_NAMES) as [BackendName, string][]).find(([, tfName]) => tfName === active);
  if (!entry)
    throw new BackendError(String(active), 'unknown-backend', `The active tfjs backend '${active}' is not one diffusion-ts manages`);
  return entry[0];
}

/**
 * Why the active (or named) backend cannot train, or undefined when it can: checks that the
 * gradient kernels training needs (`TRAINING_KERNELS`) are registered for it.
 */
export function trainingGap(name: BackendName = currentBackend()): string | undefined {
  if (tf.findBackendFactory(TFJS_NAMES[name]) === null) {
    return `the ${name} backend is not loaded; call initBackend('${name}') first`;
  }
  const missing = missingTrainingKernels(name);
  if (missing.length === 0) return undefined;
  const fix = name === 'wasm' ? '; initBackend("wasm") registers them (registerWasmTrainingKernels)' : '';
  return `tfjs ${name} lacks the gradient kernel${missing.length > 1 ? 's' : ''} ${missing.join(', ')}${fix}`;
}

/** Whether the active (or named) backend can compute every gradient training needs. */
export function backendCanTrain(name?: BackendName): boolean {
  return trainingGap(name) === undefined;
}

/**
 * Throws a `BackendError` (fault `cannot-train`) naming the missing gradient kernels when the
 * active (or named) backend cannot train. Call it before any training work.
 */
export function assertCanTrain(name?: BackendName): void {
  const backend = name ?? currentBackend();
  const gap = trainingGap(backend);
  if (gap) throw new BackendError(backend, 'cannot-train', `Training is not possible on the ${backend} backend: ${gap}`);
}

/**
 * Releases the active backend's resources (for webgpu also the GPU device, so that Node can
 * exit). A later `initBackend` starts it afresh.
 */
export function disposeBackend(): void {
  const active = tf.getBackend();
  if (!active) return;
  const backend = tf.engine().registry[active];
  tf.removeBackend(active);
  if (active === 'webgpu') releaseGpuDevice(backend);
}
