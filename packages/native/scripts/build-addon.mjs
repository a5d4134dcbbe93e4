#!/usr/bin/env node
// Compiles addon/*.cc into build/diffusion_native.node with the system C++ compiler and Node's own
// Node-API headers. Options:
//   --if-missing  do nothing when the addon is already built (the package's install script)
//   --optional    warn instead of failing when no compiler or headers are found
// The binary is written to a temporary name and renamed, so a failed build never leaves a broken one.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const output = join(root, 'build', 'diffusion_native.node');
const flags = new Set(process.argv.slice(2));

function fail(message) {
  if (flags.has('--optional')) {
    console.warn(`@diffusion-ts/native: not built (${message}); the wasm backend runs without native kernels.`);
    process.exit(0);
  }
  console.error(`@diffusion-ts/native: ${message}`);
  process.exit(1);
}

/** Folders that may hold node_api.h: npm's nodedir, Node's own install, node-gyp's header cache. */
function headerFolder() {
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

function compiler() {
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

if (flags.has('--if-missing') && existsSync(output)) process.exit(0);
if (process.platform === 'win32') fail('building on Windows is not supported yet');
const include = headerFolder();
if (include === undefined) fail("Node's headers (node_api.h) were not found; set npm_config_nodedir to Node's install folder");
const cxx = compiler();
if (cxx === undefined) fail('no C++ compiler found (tried $CXX, c++, g++, clang++)');

const sources = readdirSync(join(root, 'addon'))
  .filter((name) => name.endsWith('.cc'))
  .sort()
  .map((name) => join(root, 'addon', name));
mkdirSync(join(root, 'build'), { recursive: true });
const temporary = `${output}.${process.pid}.tmp`;
const args = [
  '-O3',
  '-std=c++17',
  '-fPIC',
  '-shared',
  '-pthread',
  '-fvisibility=hidden',
  '-fopenmp-simd',
  '-fno-trapping-math',
  '-fno-math-errno',
  '-DNODE_GYP_MODULE_NAME=diffusion_native',
  '-DNAPI_VERSION=8',
  `-I${include}`,
  ...(process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : []),
  ...sources,
  '-o',
  temporary,
];
try {
  execFileSync(cxx, args, { stdio: 'inherit' });
  renameSync(temporary, output);
} catch (error) {
  rmSync(temporary, { force: true });
  fail(`compiling with ${cxx} failed: ${error instanceof Error ? error.message : String(error)}`);
}
console.log(`@diffusion-ts/native: built ${output}`);
