#!/usr/bin/env node
// Builds addon/test/kernels-test.cc with the kernels' sources twice, as the addon is built (-O3)
// and with -fsanitize=address,undefined, then runs both builds once per instruction set the GEMM
// can be forced to (DIFFUSION_TS_NATIVE_ISA: avx512, avx2-fma, generic; a CPU without one runs the
// next lower). Exits 1 when a build, a check or a sanitizer fails. `--no-sanitize`: the plain build only.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';

import { COMMON_FLAGS, addonSources, findCompiler, packageRoot } from './toolchain.mjs';

const cxx = findCompiler();
if (cxx === undefined) {
  console.error('@diffusion-ts/native: no C++ compiler found (tried $CXX, c++, g++, clang++)');
  process.exit(1);
}
const kernels = addonSources().filter((file) => !/\/(addon|peak)\.cc$/.test(file)); // no Node-API, no timing
const sources = [join(packageRoot, 'addon', 'test', 'kernels-test.cc'), ...kernels];
const folder = join(packageRoot, 'build', 'test');
mkdirSync(folder, { recursive: true });

const builds = [
  { name: 'plain', flags: ['-O3'] },
  {
    name: 'address,undefined sanitizers',
    flags: ['-O1', '-g', '-fsanitize=address,undefined', '-fno-omit-frame-pointer', '-fno-sanitize-recover=all'],
  },
].filter((build) => build.name === 'plain' || !process.argv.includes('--no-sanitize'));

/** Runs a command, echoing its output; resolves to its exit code. */
function run(command, args, env = {}) {
  return new Promise((done) => {
    const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('close', (code) => done(code ?? 1));
    child.on('error', () => done(1));
  });
}

/** Runs the jobs (functions returning a promise of an exit code), `limit` at a time; resolves to their codes. */
async function pooled(jobs, limit) {
  const codes = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      codes[index] = await jobs[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return codes;
}

const started = performance.now();
// Every object file of both builds compiles in one pool of jobs (one per core), then each links.
const objects = builds.map((build, index) => sources.map((source) => join(folder, `${index}-${basename(source, '.cc')}.o`)));
const compiled = await pooled(
  builds.flatMap((build, index) =>
    sources.map((source, file) => () => run(cxx, [...build.flags, ...COMMON_FLAGS, '-c', source, '-o', objects[index][file]])),
  ),
  availableParallelism(),
);
const binaries = [];
for (const [index, build] of builds.entries()) {
  const binary = join(folder, `kernels-test-${index}`);
  const ok = compiled.slice(index * sources.length, (index + 1) * sources.length).every((code) => code === 0);
  const linked = ok && (await run(cxx, [...build.flags, ...COMMON_FLAGS, ...objects[index], '-o', binary])) === 0;
  binaries.push({ ...build, binary, built: linked });
}
const failed = [];
for (const build of binaries) {
  if (!build.built) {
    failed.push(`${build.name}: compiling failed`);
    continue;
  }
  for (const isa of ['avx512', 'avx2-fma', 'generic']) {
    console.log(`== ${build.name}, DIFFUSION_TS_NATIVE_ISA=${isa}`);
    const code = await run(build.binary, [], {
      DIFFUSION_TS_NATIVE_ISA: isa,
      ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0',
      UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
    });
    if (code !== 0) failed.push(`${build.name}, ${isa}: exit ${code}`);
  }
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (failed.length > 0) {
  console.error(`@diffusion-ts/native addon tests FAILED (${seconds} s): ${failed.join('; ')}`);
  process.exit(1);
}
const names = binaries.map((build) => build.name).join(' and ');
console.log(`@diffusion-ts/native addon tests passed: ${names} builds, 3 instruction sets (${seconds} s)`);
