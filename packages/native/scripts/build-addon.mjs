#!/usr/bin/env node
// Compiles addon/*.cc with the system C++ compiler and Node's own Node-API headers. Options:
//   --prebuild    build the binary the package ships, prebuilds/<platform>-<arch>/node.napi.<libc>.node
//                 (stripped, and linked so that it loads on older Linux distributions too); the
//                 default is build/diffusion_native.node, the fallback compiled at install
//   --if-missing  do nothing when an addon binary already loads here (the package's install script:
//                 a prebuilt binary that fits this system means no compiler is needed)
//   --optional    warn instead of failing when no compiler or headers are found
// The binary is written to a temporary name and renamed, so a failed build never leaves a broken one.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

import { COMMON_FLAGS, addonSources, findCompiler, nodeHeaders, packageRoot, prebuiltFile } from './toolchain.mjs';

const flags = new Set(process.argv.slice(2));
const prebuild = flags.has('--prebuild');
const output = prebuild ? prebuiltFile() : join(packageRoot, 'build', 'diffusion_native.node');

function fail(message) {
  if (flags.has('--optional')) {
    console.warn(`@diffusion-ts/native: not built (${message}); the wasm backend runs without native kernels.`);
    process.exit(0);
  }
  console.error(`@diffusion-ts/native: ${message}`);
  process.exit(1);
}

/** The binary the package's own loader picks here (prebuilt first), or undefined when none loads. */
async function loadableBinary() {
  const loader = join(packageRoot, 'dist', 'addon.js');
  if (!existsSync(loader)) return existsSync(output) ? output : undefined; // a workspace before its first build
  const { loadNativeAddon, nativeAddonStatus } = await import(pathToFileURL(loader).href);
  try {
    await loadNativeAddon();
    return nativeAddonStatus().binary;
  } catch {
    return undefined;
  }
}

if (flags.has('--if-missing')) {
  const binary = await loadableBinary();
  if (binary !== undefined) {
    console.log(`@diffusion-ts/native: using ${relative(packageRoot, binary)}; nothing to compile.`);
    process.exit(0);
  }
}
if (process.platform === 'win32') fail('building on Windows is not supported yet');
const include = nodeHeaders();
if (include === undefined) fail("Node's headers (node_api.h) were not found; set npm_config_nodedir to Node's install folder");
const cxx = findCompiler();
if (cxx === undefined) {
  const prefix = flags.has('--if-missing') ? 'no prebuilt binary fits this system and ' : '';
  fail(`${prefix}no C++ compiler was found (tried $CXX, c++, g++, clang++)`);
}

mkdirSync(dirname(output), { recursive: true });
const temporary = `${output}.${process.pid}.tmp`;
// The shipped binary: stripped, and without GLIBCXX/GLIBC symbol versions newer than it needs
// (thread-pool.cc pins one), so that it loads wherever Node 20 runs.
const portable = prebuild ? ['-s', '-ffunction-sections', '-fdata-sections', '-Wl,--gc-sections', '-Wl,--as-needed'] : [];
const args = [
  '-O3',
  ...COMMON_FLAGS,
  '-fPIC',
  '-shared',
  '-fvisibility=hidden',
  '-DNODE_GYP_MODULE_NAME=diffusion_native',
  '-DNAPI_VERSION=8',
  `-I${include}`,
  ...(process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : portable),
  ...addonSources(),
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
console.log(`@diffusion-ts/native: built ${relative(packageRoot, output)} (${(statSync(output).size / 1024).toFixed(0)} KiB)`);
