/**
 * Probes Dawn (the npm package `webgpu`) for an adapter in a child Node process, so that the
 * Vulkan loader's and Dawn's own messages, which native code writes straight to stderr, never
 * reach the user's terminal: what they say comes back as one line of notes.
 */

/** What the probe learned about the adapter Dawn would give tfjs. */
export interface DawnProbe {
  adapter?: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    isFallbackAdapter: boolean;
  };
  /** WebGPU features of the adapter (`shader-f16`, `timestamp-query`, …). */
  features?: string[];
  /** The adapter's limits that matter for large tensors. */
  limits?: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  /** Why there is no adapter. */
  reason?: string;
  /** What Dawn and the Vulkan loader printed, condensed to one line (empty when quiet). */
  notes: string;
}

type NodeProcess = NodeJS.Process & { getBuiltinModule?: (id: string) => unknown };
type ChildProcessModule = typeof import('node:child_process');
type ModuleModule = typeof import('node:module');
type UrlModule = typeof import('node:url');
type FsModule = typeof import('node:fs');
type OsModule = typeof import('node:os');
type PathModule = typeof import('node:path');

/** The script the child runs: import Dawn, request an adapter, print what it found as JSON. */
const CHILD_SCRIPT = `
const dawn = await import(process.argv[1]);
const gpu = dawn.create([]);
let out;
try {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) out = { reason: 'no WebGPU adapter found (no GPU driver; in Node set VK_ICD_FILENAMES to a Vulkan driver)' };
  else {
    const info = adapter.info ?? {};
    out = {
      adapter: {
        vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '',
        description: info.description ?? '', isFallbackAdapter: Boolean(adapter.isFallbackAdapter ?? info.isFallbackAdapter),
      },
      features: [...adapter.features].sort(),
      limits: { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize },
    };
  }
} catch (error) {
  out = { reason: 'requestAdapter failed: ' + (error && error.message) };
}
process.stdout.write('\\n@@DAWN@@' + JSON.stringify(out) + '\\n');
process.exit(0);
`;

function nodeModule<T>(id: string): T | undefined {
  const node = (globalThis as { process?: NodeProcess }).process;
  return node?.getBuiltinModule?.(id) as T | undefined;
}

let privateRuntimeDir: string | undefined;

/**
 * Dawn's Vulkan loader complains (to stderr, from native code) when `XDG_RUNTIME_DIR` is unset;
 * a private empty directory satisfies it. Sets it only where it is unset, once per process.
 */
export function ensureRuntimeDir(): void {
  const node = (globalThis as { process?: NodeProcess }).process;
  if (!node?.env || node.env.XDG_RUNTIME_DIR) return;
  const fs = nodeModule<FsModule>('node:fs');
  const os = nodeModule<OsModule>('node:os');
  const path = nodeModule<PathModule>('node:path');
  if (!fs || !os || !path) return;
  privateRuntimeDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'diffusion-ts-xdg-'));
  fs.chmodSync(privateRuntimeDir, 0o700);
  node.env.XDG_RUNTIME_DIR = privateRuntimeDir;
}

/** Condenses what native code printed: unique message lines, without Dawn's source locations. */
export function condenseNativeMessages(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('at ') && !line.startsWith('- While'));
  return [...new Set(lines)].join(' | ');
}

/** Where the `webgpu` package resolves from this module, or undefined when it is not installed. */
function resolveDawn(packageName: string): string | undefined {
  const moduleApi = nodeModule<ModuleModule>('node:module');
  const url = nodeModule<UrlModule>('node:url');
  if (!moduleApi || !url) return undefined;
  try {
    const resolved = moduleApi.createRequire(import.meta.url).resolve(packageName);
    return url.pathToFileURL(resolved).href;
  } catch {
    return undefined;
  }
}

/**
 * Runs the probe in a child Node process (at most `timeoutMs`). Returns undefined when this is
 * not Node, Dawn is not installed, or the child could not run, so the caller can probe in-process.
 */
export async function probeDawnInChild(packageName: string, timeoutMs = 20_000): Promise<DawnProbe | undefined> {
  const node = (globalThis as { process?: NodeProcess }).process;
  const childProcess = nodeModule<ChildProcessModule>('node:child_process');
  const dawnUrl = resolveDawn(packageName);
  if (!node?.execPath || !childProcess || dawnUrl === undefined) return undefined;
  ensureRuntimeDir();
  return new Promise((resolve) => {
    childProcess.execFile(
      node.execPath,
      ['--input-type=module', '-e', CHILD_SCRIPT, dawnUrl],
      { timeout: timeoutMs, env: node.env, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        const marker = stdout.lastIndexOf('@@DAWN@@');
        const notes = condenseNativeMessages(stderr);
        if (marker < 0) {
          const why = error ? error.message.split('\n')[0] : 'no result';
          resolve({ reason: `the WebGPU probe process failed (${why})`, notes });
          return;
        }
        try {
          const found = JSON.parse(stdout.slice(marker + 8).trim()) as Omit<DawnProbe, 'notes'>;
          resolve({ ...found, notes });
        } catch {
          resolve({ reason: 'the WebGPU probe process printed unreadable output', notes });
        }
      },
    );
  });
}
