// What the package's scripts share about compiling the addon: its sources, the system C++
// compiler, Node's Node-API headers, the flags every build uses, and where a prebuilt binary goes.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root folder. */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The addon's C++ sources (addon/*.cc; its tests under addon/test/ are not part of it). */
export function addonSources() {
  const folder = join(packageRoot, 'addon');
  return readdirSync(folder)
    .filter((name) => name.endsWith('.cc'))
    .sort()
    .map((name) => join(folder, name));
}

/**
 * Flags of every build. No -march: the vector kernels are compiled for AVX-512 and AVX2 through
 * target attributes and chosen when the addon loads, so a binary built anywhere runs on any x86-64.
 */
export const COMMON_FLAGS = ['-std=c++17', '-pthread', '-fopenmp-simd', '-fno-trapping-math', '-fno-math-errno'];

/** The first working C++ compiler among $CXX, c++, g++ and clang++, or undefined. */
export function findCompiler() {
  for (const candidate of [process.env.CXX, 'c++', 'g++', 'clang++'].filter(Boolean)) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** A folder holding node_api.h: npm's nodedir, Node's own install, node-gyp's header cache; or undefined. */
export function nodeHeaders() {
  const version = process.versions.node;
  const candidates = [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    resolve(dirname(process.execPath), '..', 'include', 'node'),
    join(homedir(), '.cache', 'node-gyp', version, 'include', 'node'),
    join(homedir(), 'Library', 'Caches', 'node-gyp', version, 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  return candidates.find((folder) => existsSync(join(folder, 'node_api.h')));
}

/** This system's C library as prebuildify tags it ('glibc' or 'musl'; undefined off Linux). */
export function libc() {
  if (process.platform !== 'linux') return undefined;
  const header = process.report?.getReport?.().header;
  return header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

/**
 * Where this platform's prebuilt binary goes, in prebuildify's layout (which node-gyp-build reads):
 * prebuilds/<platform>-<arch>/node.napi[.<libc>].node. N-API: one binary for every Node version.
 */
export function prebuiltFile() {
  const tags = ['node', 'napi', libc(), 'node'].filter(Boolean);
  return join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, tags.join('.'));
}
