/**
 * What the device check's parts share: writing a part's JSON, timing, choosing a backend, the
 * fixtures folder and the command-line flags the orchestrator passes on.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, useNativeKernels } from '@diffusion-ts/core';

/** The folder that holds `fixtures/` (the packed app, or the repository when run from it). */
export const APP_ROOT = process.env.DEVICE_CHECK_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Flags of one part: `node parts/x.mjs OUT_DIR [--quick]`. */
export function partArguments() {
  const [out, ...flags] = process.argv.slice(2);
  if (!out) throw new Error('usage: node parts/<part>.mjs OUT_DIR [--quick]');
  return { out, quick: flags.includes('--quick') };
}

/** Writes OUT_DIR/<name>.json atomically (temp file, then rename). */
export function writePartJson(out, name, value) {
  mkdirSync(out, { recursive: true });
  const file = join(out, `${name}.json`);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return file;
}

/** Reads a JSON file under the app's fixtures folder. */
export function readFixtureJson(...path) {
  return JSON.parse(readFileSync(join(APP_ROOT, 'fixtures', ...path), 'utf8'));
}

/**
 * Initialises `webgpu`, `wasm+native` (wasm with @diffusion-ts/native's kernels), `wasm` or `cpu`.
 * Returns a description of what runs, or throws with the reason.
 */
export async function useBackend(name) {
  const backend = name === 'wasm+native' ? 'wasm' : name;
  await initBackend(backend);
  if (backend === 'wasm') {
    const status = await useNativeKernels(name === 'wasm+native');
    if (name === 'wasm+native' && !status.active) throw new Error(`native kernels unavailable: ${status.reason}`);
    return name === 'wasm+native' ? `wasm + native (${status.isa}, ${status.threads} threads)` : 'wasm (tfjs kernels)';
  }
  return backend;
}

/** Best wall time in ms of `run` (which returns a tensor or tensors) over `repeats`, after `warmUp` runs. */
export async function bestTime(run, { repeats = 3, warmUp = 1 } = {}) {
  const once = async () => {
    const started = performance.now();
    const result = run();
    const tensors = Array.isArray(result) ? result : [result];
    await Promise.all(tensors.map((tensor) => tensor.data()));
    const ms = performance.now() - started;
    tf.dispose(tensors);
    return ms;
  };
  for (let i = 0; i < warmUp; i += 1) await once();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i += 1) best = Math.min(best, await once());
  return best;
}

/** max |a - b| / max(1, |b|) over two flat arrays of equal length. */
export function relativeToUnit(actual, expected) {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < expected.length; i += 1) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  }
  return worst;
}

/** The message of an error, for a part's JSON. */
export function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}
