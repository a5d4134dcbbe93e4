import { BackendError, importBackendPackage } from './backend-error.js';
import { ensureRuntimeDir, probeDawnInChild, type DawnProbe } from './dawn-probe.js';

/** What is known about a WebGPU adapter. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  features?: Iterable<string>;
  limits?: { maxBufferSize?: number; maxStorageBufferBindingSize?: number };
}

/** What probing WebGPU found: the adapter tfjs would use (or why there is none) and its capabilities. */
export interface WebgpuProbe {
  adapter?: AdapterDescription;
  reason?: string;
  /** The adapter's features (`shader-f16`, `timestamp-query`, …). */
  features?: string[];
  /** The adapter's buffer limits, in bytes. */
  limits?: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  /** In Node: what Dawn and the Vulkan loader printed while probing, on one line (empty when quiet). */
  notes?: string;
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|lavapipe|software|warp|basic render/i;

/**
 * Whether an adapter is a software emulation (SwiftShader, llvmpipe, lavapipe, WARP, or one the
 * browser flags as a fallback adapter). `auto` selection never prefers such an adapter over wasm.
 */
export function isSoftwareAdapter(adapter: AdapterDescription): boolean {
  return (
    adapter.isFallbackAdapter ||
    [adapter.vendor, adapter.architecture, adapter.device, adapter.description].some((text) => SOFTWARE_RENDERERS.test(text))
  );
}

function describeAdapter(adapter: GpuAdapterLike): AdapterDescription {
  const info = adapter.info ?? {};
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: Boolean(adapter.isFallbackAdapter ?? info.isFallbackAdapter),
  };
}

let nodeGpu: Promise<GpuLike | null> | undefined;

/**
 * The `navigator.gpu` of this environment: the browser's own, or in Node the one made by the
 * optional npm package `webgpu` (Dawn), which is then installed as `navigator.gpu` for tfjs.
 */
export async function findGpu(): Promise<GpuLike | null> {
  const existing = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (existing) return existing;
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string') return null;
  nodeGpu ??= (async () => {
    let dawn: { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
    try {
      // A computed name, so browser bundlers never try to resolve the Node-only Dawn package.
      const loaded: unknown = await import(/* @vite-ignore */ DAWN_PACKAGE);
      dawn = loaded as typeof dawn;
    } catch {
      return null;
    }
    Object.assign(globalThis, dawn.globals);
    ensureRuntimeDir();
    const gpu = dawn.create([]);
    const scope = globalThis as unknown as { navigator?: Record<string, unknown> };
    if (!scope.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
    Object.defineProperty(scope.navigator!, 'gpu', { value: gpu, configurable: true });
    return gpu;
  })();
  return nodeGpu;
}

let nodeProbe: Promise<DawnProbe | undefined> | undefined;

/**
 * Requests the WebGPU adapter tfjs would use and describes it, or says why there is none. In Node
 * (Dawn's `webgpu` package) the probe runs once per process in a child process, so that the
 * messages native code prints go to `notes` instead of the terminal.
 */
export async function probeWebgpu(): Promise<WebgpuProbe> {
  const existing = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (!existing && typeof process !== 'undefined' && typeof process.versions?.node === 'string') {
    nodeProbe ??= probeDawnInChild(DAWN_PACKAGE);
    const found = await nodeProbe;
    if (found) return found;
  }
  const gpu = await findGpu();
  if (!gpu) {
    return { reason: 'no navigator.gpu (in Node, install the optional package `webgpu`)' };
  }
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { reason: `requestAdapter failed: ${(error as Error).message}` };
  }
  if (!adapter) return { reason: 'no WebGPU adapter found (no GPU driver; in Node set VK_ICD_FILENAMES to a Vulkan driver)' };
  return {
    adapter: describeAdapter(adapter),
    features: adapter.features ? [...adapter.features].sort() : undefined,
    limits: adapter.limits
      ? { maxBufferSize: adapter.limits.maxBufferSize ?? 0, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize ?? 0 }
      : undefined,
  };
}

/** The package that provides the WebGPU backend. */
export const WEBGPU_PACKAGE = '@tensorflow/tfjs-backend-webgpu';

/** The optional npm package with Dawn's WebGPU for Node. */
export const DAWN_PACKAGE = 'webgpu';

/**
 * Registers tfjs' WebGPU backend after making sure `navigator.gpu` exists and has an adapter.
 * Throws a `BackendError` that says why when there is none.
 */
export async function loadWebgpu(): Promise<string> {
  const probe = await probeWebgpu();
  if (!probe.adapter) throw new BackendError('webgpu', 'unavailable', `The webgpu backend is unavailable: ${probe.reason}`);
  // In Node the probe ran in a child process: make this process's navigator.gpu for tfjs.
  if (!(await findGpu())) throw new BackendError('webgpu', 'unavailable', 'The webgpu backend is unavailable: no navigator.gpu');
  await importBackendPackage('webgpu', WEBGPU_PACKAGE, () => import('@tensorflow/tfjs-backend-webgpu'));
  return 'webgpu';
}

/**
 * Destroys the GPU device a removed tfjs WebGPU backend held, so that nothing keeps Node's event
 * loop alive. Accepts any backend object; does nothing for those without a device.
 */
export function releaseGpuDevice(backend: unknown): void {
  const device = (backend as { device?: { destroy?: () => void } } | undefined)?.device;
  device?.destroy?.();
}
