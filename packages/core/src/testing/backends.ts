/**
 * Which backends the test suites run on. Test support only: published under
 * `@diffusion-ts/core/testing`, never imported by library code.
 */
import { BackendError } from '../backend/backend-error.js';
import { BACKEND_NAMES, probeBackend, type BackendName } from '../backend/init-backend.js';
import { probeWebgpu } from '../backend/webgpu.js';
import { useSwiftshaderForTests } from './swiftshader.js';

function envValue(variable: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[variable];
}

function envList(variable: string): BackendName[] | undefined {
  const value = envValue(variable);
  if (!value) return undefined;
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (name !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(name)) {
      throw new BackendError(
        name,
        'unknown-backend',
        `Unknown backend '${name}' in ${variable}: expected one of ${BACKEND_NAMES.join(', ')}`,
      );
    }
  }
  return names.filter((n): n is BackendName => n !== 'auto');
}

let webgpuForTests: Promise<boolean> | undefined;

/**
 * Whether a WebGPU adapter (software ones included) can be made in this process, for tests; the
 * probe runs once. Points Dawn at SwiftShader first when no Vulkan driver is configured.
 */
export function webgpuTestable(): Promise<boolean> {
  webgpuForTests ??= (async () => {
    useSwiftshaderForTests();
    const found = await probeWebgpu();
    if (!found.adapter) return false;
    return (await probeBackend('webgpu')).available;
  })();
  return webgpuForTests;
}

/**
 * Backends every package's test suites run on: cpu and wasm. Override the list with
 * `DIFFUSION_TS_TEST_BACKENDS=cpu,wasm,…`, or add webgpu with `DIFFUSION_TS_TEST_WEBGPU=1` (on a
 * machine without a GPU that is SwiftShader at about 0.2 GFLOP/s, so it is off by default; the
 * backend contract suite covers webgpu through `contractBackendNames`).
 */
export function testBackendNames(): BackendName[] {
  const names = envList('DIFFUSION_TS_TEST_BACKENDS') ?? ['cpu', 'wasm'];
  if (envValue('DIFFUSION_TS_TEST_WEBGPU') === '1' && !names.includes('webgpu')) {
    useSwiftshaderForTests();
    names.push('webgpu');
  }
  return names;
}

/**
 * Backends the backend contract suite runs on: cpu, wasm, webgpu when an adapter can be made here
 * (SwiftShader included), cuda when `@tensorflow/tfjs-node-gpu` is installed.
 */
export async function contractBackendNames(): Promise<BackendName[]> {
  const names: BackendName[] = ['cpu', 'wasm'];
  if (await webgpuTestable()) names.push('webgpu');
  if ((await probeBackend('cuda')).available) names.push('cuda');
  return names;
}
