import * as tf from '@tensorflow/tfjs-core';

/** What `initWasmThreaded` set up. */
export interface WasmThreadsReport {
  /** Threads XNNPACK runs on (as reported by the wasm module itself). */
  threads: number;
  /** Where the pthread worker script was written. */
  workerPath: string;
}

/** Options for `initWasmThreaded`. */
export interface WasmThreadsOptions {
  /** Threads for XNNPACK's pool; defaults to the number of logical CPUs (at most 8, tfjs' pool). */
  threads?: number;
}

/** The text in tfjs' pthread worker that loads the main script from a Blob URL (tfjs-backend-wasm 4.22). */
const BLOB_IMPORT =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';

/** The most threads tfjs' wasm build has pre-created workers for. */
const MAX_THREADS = 8;

/** Node built-ins, imported by computed name so that browser bundles never try to resolve them. */
async function nodeBuiltin<T>(name: string): Promise<T> {
  // The default export is the CommonJS module object itself (the one Emscripten `require`s).
  return ((await import(/* @vite-ignore */ name)) as { default: T }).default;
}

/**
 * Initialises tfjs' wasm backend in Node with its multi-threaded SIMD build (tfjs itself turns
 * threads off in Node), then sets it as the active backend. Call it instead of
 * `tf.setBackend('wasm')`, before the wasm backend has been initialised.
 *
 * tfjs hands Emscripten Blob URLs for the pthread worker and for the main script, which Node's
 * `worker_threads` cannot load (ERR_WORKER_PATH). This writes the worker script to a temporary
 * file (loading the main script from the package's own file), points tfjs at it for the duration
 * of the initialisation, and reports the CPU count the wasm module asks for such that its
 * "logical cores / 2" rule gives the requested thread count. Node only; throws elsewhere, or when
 * the installed tfjs-backend-wasm does not have the expected worker script.
 */
export async function initWasmThreaded(options: WasmThreadsOptions = {}): Promise<WasmThreadsReport> {
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string') {
    throw new Error('initWasmThreaded: only for Node; in browsers tfjs enables wasm threads itself (cross-origin isolated pages)');
  }
  if (tf.findBackend('wasm') !== null) {
    throw new Error('initWasmThreaded: the wasm backend is already initialised; call this before any setBackend("wasm")');
  }
  const os = await nodeBuiltin<typeof import('node:os')>('node:os');
  const fs = await nodeBuiltin<typeof import('node:fs')>('node:fs');
  const path = await nodeBuiltin<typeof import('node:path')>('node:path');
  const { createRequire } = await nodeBuiltin<typeof import('node:module')>('node:module');
  const logicalCpus = os.cpus().length;
  const threads = options.threads ?? Math.min(logicalCpus, MAX_THREADS);
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new Error(`initWasmThreaded: threads must be an integer from 1 to ${MAX_THREADS}, got ${threads}`);
  }

  const require = createRequire(import.meta.url);
  const workerModulePath = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');
  const mainScriptPath = path.join(path.dirname(workerModulePath), 'tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require(workerModulePath) as { wasmWorkerContents: string };
  if (!wasmWorkerContents.includes(BLOB_IMPORT) || !fs.existsSync(mainScriptPath)) {
    throw new Error(
      'initWasmThreaded: this @tensorflow/tfjs-backend-wasm version has an unexpected pthread worker; use tf.setBackend("wasm") (one thread)',
    );
  }
  // tfjs escapes newlines the same way before making its Blob: the template literal it ships
  // turned the script's "\n" escapes into real newlines.
  const workerSource = wasmWorkerContents.replace(/\n/g, '\\n').replace(BLOB_IMPORT, `importScripts(${JSON.stringify(mainScriptPath)});`);
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'diffusion-ts-wasm-threads-'));
  const workerPath = path.join(folder, 'tfjs-backend-wasm-threaded-simd.worker.cjs');
  fs.writeFileSync(workerPath, workerSource);
  process.once('exit', () => fs.rmSync(folder, { recursive: true, force: true }));

  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);

  // Both kept to be put back below; Node's URL.createObjectURL does not use `this`.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  URL.createObjectURL = (blob: Blob) => (blob.type === 'application/javascript' ? workerPath : createObjectURL(blob));
  // The wasm module caps its pool at (logical CPUs / 2), assuming two hyperthreads per core.
  os.cpus = () => Array.from({ length: threads * 2 }, (_, index) => cpus()[index % logicalCpus]);
  let ok: boolean;
  try {
    ok = await tf.setBackend('wasm');
    await tf.ready();
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
  }
  if (!ok) throw new Error('initWasmThreaded: the threaded wasm backend failed to initialise');
  unrefWorkers();
  return { threads: wasm.getThreadsCount(), workerPath };
}

/** A Node worker as Emscripten keeps it in its pthread pool. */
interface PooledWorker {
  unref?: () => void;
}

/**
 * Lets the process exit while the pthread pool's workers idle (Emscripten leaves them referenced,
 * so a script would otherwise hang after its last line).
 */
function unrefWorkers(): void {
  const backend = tf.findBackend('wasm') as unknown as {
    wasm?: { PThread?: { unusedWorkers?: PooledWorker[]; runningWorkers?: PooledWorker[] } };
  } | null;
  const pool = backend?.wasm?.PThread;
  for (const worker of [...(pool?.unusedWorkers ?? []), ...(pool?.runningWorkers ?? [])]) worker.unref?.();
}
