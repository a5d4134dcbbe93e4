#!/usr/bin/env node
// Packed-tarball consumer tests (issue 9). Plain Node, no dependencies beyond the workspace's
// own dev tools (publint, attw, typescript) which never enter the consumer projects.
//
//   node scripts/consumer/run.mjs [--skip-build] [--only core,schedulers] [--keep] [--no-lint]
//
// 1. `turbo run build` for packages/* (unless --skip-build).
// 2. `pnpm pack` every package into a temporary folder OUTSIDE the workspace.
// 3. For each package: a fresh npm project that installs only its own tarball, the tarballs of
//    the @diffusion-ts packages it depends on (pinned with `overrides`, so npm never asks the
//    registry for them) and the tfjs packages from the registry / npm cache; then it runs a
//    consumer script (`checks/<package>.mjs`) and a TypeScript check with moduleResolution
//    `bundler` and `node16`.
// 4. publint and @arethetypeswrong/cli on every package.
// Prints a summary table (PASS/FAIL/SKIP per check, packed size) and exits 1 if anything failed.

import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? new Set(args[onlyIndex + 1].split(',')) : null;

const TFJS_VERSION = '4.22.0';
/** The internal dependency graph (checked against each package.json below). */
const PACKAGE_ORDER = ['native', 'core', 'schedulers', 'losses', 'models', 'tokenizers', 'pipelines'];
/** Registry packages each consumer project installs besides the tarballs. */
const REGISTRY_PACKAGES = [`@tensorflow/tfjs-core@${TFJS_VERSION}`, `@tensorflow/tfjs-backend-cpu@${TFJS_VERSION}`];

const results = [];
function record(pkg, check, status, detail = '', seconds = 0) {
  results.push({ pkg, check, status, detail, seconds });
  const time = seconds ? ` (${seconds.toFixed(1)} s)` : '';
  console.log(`[${status}] ${pkg} ${check}${time}${detail ? ` — ${detail}` : ''}`);
}

function run(command, commandArgs, options = {}) {
  const started = performance.now();
  const child = spawnSync(command, commandArgs, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: options.timeout ?? 600_000,
    cwd: options.cwd ?? root,
    env: { ...cleanEnv(), ...(options.env ?? {}) },
  });
  const seconds = (performance.now() - started) / 1000;
  const output = `${child.stdout ?? ''}${child.stderr ?? ''}${child.error ? String(child.error) : ''}`;
  return { ok: child.status === 0, status: child.status, output, seconds };
}

/** The environment without anything that could point module resolution back at the workspace. */
function cleanEnv() {
  const env = { ...process.env };
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  for (const key of Object.keys(env)) if (key.startsWith('npm_') || key.startsWith('PNPM_')) delete env[key];
  return env;
}

const tail = (text, lines = 25) => text.trim().split('\n').slice(-lines).join('\n');
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

// --- 1. build -------------------------------------------------------------------------------
if (!flag('--skip-build')) {
  const build = run('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=./packages/*', '--continue', '--output-logs=errors-only']);
  const errors = build.output
    .split('\n')
    .filter((line) => /error/i.test(line))
    .slice(0, 12)
    .join('\n');
  record('all', 'turbo build', build.ok ? 'PASS' : 'FAIL', build.ok ? '' : errors || tail(build.output), build.seconds);
}

// --- 2. pack --------------------------------------------------------------------------------
const work = mkdtempSync(join(tmpdir(), 'diffusion-ts-consumer-'));
if (work.startsWith(root)) throw new Error(`temporary folder ${work} is inside the workspace`);
const tarballDir = join(work, 'tarballs');
mkdirSync(tarballDir);
console.log(`work folder: ${work}`);

/** name -> { dir, manifest, tarball?, internalDeps } */
const packages = new Map();
for (const short of PACKAGE_ORDER) {
  const dir = join(root, 'packages', short);
  if (!existsSync(join(dir, 'package.json'))) continue;
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  // Optional peers (core's @diffusion-ts/native) are not installed with the package; optional
  // dependencies (pipelines' @diffusion-ts/native) are.
  const requiredPeers = Object.keys(manifest.peerDependencies ?? {}).filter((name) => !manifest.peerDependenciesMeta?.[name]?.optional);
  const internalDeps = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {}), ...requiredPeers]
    .filter((name) => name.startsWith('@diffusion-ts/'))
    .map((name) => name.slice('@diffusion-ts/'.length));
  packages.set(short, { dir, manifest, internalDeps, tarball: null });
}

function closure(short, seen = new Set()) {
  if (seen.has(short)) return seen;
  seen.add(short);
  for (const dep of packages.get(short)?.internalDeps ?? []) closure(dep, seen);
  return seen;
}
const wanted = only ? new Set([...only].flatMap((short) => [...closure(short)])) : null;

for (const [short, entry] of packages) {
  if (wanted && !wanted.has(short)) continue;
  const { dir, manifest } = entry;
  const mainFile = join(dir, manifest.exports?.['.']?.import ?? manifest.main ?? 'dist/index.js');
  if (!existsSync(mainFile)) {
    record(short, 'pack', 'FAIL', `${relative(root, mainFile)} missing (not built)`);
    continue;
  }
  const pack = run('pnpm', ['pack', '--pack-destination', tarballDir], { cwd: dir });
  const tarball = readdirSync(tarballDir).find((file) => file.startsWith(`diffusion-ts-${short}-`) && file.endsWith('.tgz'));
  if (!pack.ok || !tarball) {
    record(short, 'pack', 'FAIL', tail(pack.output));
    continue;
  }
  entry.tarball = join(tarballDir, tarball);
  const listing = run('tar', ['tzvf', entry.tarball]).output.trim().split('\n');
  const unpacked = listing.reduce((sum, line) => sum + Number(line.split(/\s+/)[2] ?? 0), 0);
  entry.packedBytes = statSync(entry.tarball).size;
  entry.unpackedBytes = unpacked;
  entry.fileCount = listing.length;
  // The packed manifest must not mention workspace: ranges or files outside the package.
  const packedManifest = run('tar', ['xzOf', entry.tarball, 'package/package.json']).output;
  const problems = [];
  if (packedManifest.includes('workspace:')) problems.push('packed package.json still has workspace: ranges');
  if (listing.some((line) => /\.test\.|\/src\//.test(line))) problems.push('tests or src/ in tarball');
  // The native package carries the binary `pnpm build` made for this platform (linux-x64 in CI).
  const prebuilt = `package/prebuilds/${process.platform}-${process.arch}/`;
  if (short === 'native' && !listing.some((line) => line.includes(prebuilt) && line.endsWith('.node'))) {
    problems.push(`no prebuilt binary under ${prebuilt}`);
  }
  record(
    short,
    'pack',
    problems.length ? 'FAIL' : 'PASS',
    `${basename(entry.tarball)} ${kib(entry.packedBytes)} packed, ${kib(unpacked)} unpacked, ${listing.length} files${problems.length ? `; ${problems.join('; ')}` : ''}`,
    pack.seconds,
  );
}

// --- 3. consumer projects -------------------------------------------------------------------

/** Minimal TypeScript usage per package: exercised with both module resolutions. */
const typeChecks = {
  native: `import { loadNativeAddon, registerNativeWasmKernels, type NativeAddon } from '@diffusion-ts/native';
const addon: Promise<NativeAddon> = loadNativeAddon();
export { addon, registerNativeWasmKernels };`,
  core: `import { initBackend, parseConfig, type BackendName, type ConfigJson } from '@diffusion-ts/core';
const backend: Promise<BackendName> = initBackend('cpu');
const json: ConfigJson = { _class_name: 'X' };
export { backend, json, parseConfig };`,
  schedulers: `import * as tf from '@tensorflow/tfjs-core';
import { DDIMScheduler, DDPMScheduler, type Scheduler } from '@diffusion-ts/schedulers';
const scheduler: Scheduler = new DDIMScheduler({ numTrainTimesteps: 1000 });
const other: Scheduler = DDPMScheduler.fromConfig(scheduler.toConfig());
export function step(x: tf.Tensor): tf.Tensor { return scheduler.step(x, scheduler.timesteps[0], x).prevSample; }
export { other };`,
  losses: `import * as tf from '@tensorflow/tfjs-core';
import { DDPMScheduler } from '@diffusion-ts/schedulers';
import { lSimple, normalKl } from '@diffusion-ts/losses';
export function loss(x0: tf.Tensor4D, noise: tf.Tensor4D) {
  return lSimple(noise, { x0, noise, timesteps: [1], scheduler: new DDPMScheduler() });
}
export { normalKl };`,
  models: `import * as tf from '@tensorflow/tfjs-core';
import { UNet2DModel } from '@diffusion-ts/models';
export async function predict(x: tf.Tensor4D): Promise<tf.Tensor4D> {
  const model: UNet2DModel = await UNet2DModel.fromPretrained('./model');
  return model.predict(x, 1);
}`,
  tokenizers: `import * as tf from '@tensorflow/tfjs-core';
import { CLIPTokenizer, TokenizerError, type TensorEncoding } from '@diffusion-ts/tokenizers';
export async function ids(prompt: string): Promise<tf.Tensor2D> {
  const tokenizer: CLIPTokenizer = await CLIPTokenizer.fromPretrained('./tokenizer');
  const encoded: TensorEncoding = tokenizer.encodeTensors([prompt]);
  encoded.attentionMask.dispose();
  return encoded.inputIds;
}
export { TokenizerError };`,
  pipelines: `import * as tf from '@tensorflow/tfjs-core';
import { UNet2DModel } from '@diffusion-ts/models';
import { DDIMScheduler } from '@diffusion-ts/schedulers';
import { UnconditionalPipeline, type GenerateResult } from '@diffusion-ts/pipelines';
export async function sample(unet: UNet2DModel): Promise<tf.Tensor4D> {
  const pipeline = new UnconditionalPipeline({ unet, scheduler: new DDIMScheduler() });
  const result: GenerateResult = await pipeline.generate({ batchSize: 1, numInferenceSteps: 2, seed: 0 });
  return result.images;
}`,
};

function writeConsumerProject(short, folder) {
  const needed = [...closure(short)];
  const missing = needed.filter((name) => !packages.get(name)?.tarball);
  if (missing.length) return { error: `no tarball for ${missing.join(', ')}` };
  const spec = (name) => `file:${packages.get(name).tarball}`;
  const manifest = {
    name: `consumer-${short}`,
    private: true,
    type: 'module',
    dependencies: Object.fromEntries(needed.map((name) => [`@diffusion-ts/${name}`, spec(name)])),
    overrides: Object.fromEntries(needed.map((name) => [`@diffusion-ts/${name}`, spec(name)])),
  };
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  cpSync(join(here, 'checks'), folder, { recursive: true });
  const fixture = join(root, 'fixtures/diffusers/unet2d_tiny');
  if (existsSync(fixture)) cpSync(fixture, join(folder, 'model'), { recursive: true });
  const tokenizerFixture = join(root, 'fixtures/diffusers/clip_text_small/tokenizer');
  if (short === 'tokenizers' && existsSync(tokenizerFixture)) cpSync(tokenizerFixture, join(folder, 'tokenizer'), { recursive: true });
  writeFileSync(join(folder, 'types.ts'), `${typeChecks[short]}\n`);
  // Default `types` (all of node_modules/@types, as a typical consumer has) and no skipLibCheck, so
  // our .d.ts files are checked too.
  const common = { strict: true, target: 'ES2022', lib: ['ES2022', 'DOM'], noEmit: true, skipLibCheck: false };
  writeFileSync(
    join(folder, 'tsconfig.bundler.json'),
    JSON.stringify({ compilerOptions: { ...common, module: 'ESNext', moduleResolution: 'bundler' }, files: ['types.ts'] }),
  );
  writeFileSync(
    join(folder, 'tsconfig.node16.json'),
    JSON.stringify({ compilerOptions: { ...common, module: 'node16', moduleResolution: 'node16' }, files: ['types.ts'] }),
  );
  return { needed };
}

const tsc = join(root, 'node_modules/typescript/bin/tsc');

/**
 * An environment with no C++ compiler: PATH holds only node, npm and sh (which npm runs package
 * scripts with), symlinked into a folder of their own, and CXX names a program that fails, as on
 * most users' machines.
 */
function compilerFreeEnv() {
  const bin = join(work, 'no-compiler-bin');
  if (!existsSync(bin)) {
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    for (const tool of ['npm', 'sh']) {
      symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bin, tool));
    }
  }
  return { PATH: bin, CXX: '/bin/false' };
}
for (const short of packages.keys()) {
  if (only && !only.has(short)) continue;
  const folder = join(work, `consumer-${short}`);
  const project = writeConsumerProject(short, folder);
  if (project.error) {
    record(short, 'install', 'SKIP', project.error);
    continue;
  }
  const registry = short === 'native' ? [...REGISTRY_PACKAGES, `@tensorflow/tfjs-backend-wasm@${TFJS_VERSION}`] : REGISTRY_PACKAGES;
  const install = run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error', ...registry],
    {
      cwd: folder,
    },
  );
  record(
    short,
    'npm install',
    install.ok ? 'PASS' : 'FAIL',
    install.ok ? `tarballs: ${project.needed.join(', ')}` : tail(install.output),
    install.seconds,
  );
  if (!install.ok) continue;
  const env = short === 'native' ? compilerFreeEnv() : {};
  if (short === 'native') {
    // Its install script (skipped above) runs with no compiler reachable: it must find the
    // prebuilt binary in the tarball and compile nothing.
    const compiler = ['c++', 'g++', 'clang++', 'make'].find((name) => run(name, ['--version'], { env }).ok);
    const install = run('npm', ['rebuild', '@diffusion-ts/native', '--foreground-scripts'], { cwd: folder, env });
    const compiled = existsSync(join(folder, 'node_modules/@diffusion-ts/native/build'));
    const ran = /using prebuilds\/.*nothing to compile/.test(install.output);
    const ok = compiler === undefined && install.ok && ran && !compiled;
    const problem =
      (compiler !== undefined && `${compiler} is still on PATH`) ||
      (compiled && 'it compiled build/ instead') ||
      (!ran && 'the install script did not report the prebuilt binary');
    const ours = install.output.split('\n').filter((line) => line.includes('@diffusion-ts/native:'));
    const detail = [problem, ours.join('\n') || tail(install.output, 20)].filter(Boolean).join('; ');
    record(short, 'install script with no C++ compiler uses the prebuilt binary', ok ? 'PASS' : 'FAIL', detail, install.seconds);
  }

  // Nothing may resolve back into the workspace: every installed @diffusion-ts package is a copy.
  const leaks = project.needed.filter((name) => {
    const installed = join(folder, 'node_modules/@diffusion-ts', name);
    return !existsSync(installed) || statSync(installed).isSymbolicLink?.() || resolve(installed).startsWith(root);
  });
  const extra = readdirSync(join(folder, 'node_modules/@diffusion-ts')).filter((name) => !project.needed.includes(name));
  record(
    short,
    'isolation',
    leaks.length || extra.length ? 'FAIL' : 'PASS',
    leaks.length || extra.length
      ? `missing/linked: ${leaks.join(', ')}; unexpected: ${extra.join(', ')}`
      : 'only declared tarballs installed',
  );

  const script = join(folder, `${short}.mjs`);
  if (existsSync(script)) {
    const consumer = run('node', [script], { cwd: folder, timeout: 300_000, env });
    record(short, 'consumer script', consumer.ok ? 'PASS' : 'FAIL', tail(consumer.output, consumer.ok ? 8 : 30), consumer.seconds);
  }
  for (const resolution of ['bundler', 'node16']) {
    const check = run('node', [tsc, '-p', `tsconfig.${resolution}.json`], { cwd: folder });
    record(short, `tsc ${resolution}`, check.ok ? 'PASS' : 'FAIL', check.ok ? '' : tail(check.output, 15), check.seconds);
  }
}

// A missing optional backend peer must give a clear message: the schedulers project has no wasm.
{
  const folder = join(work, 'consumer-schedulers');
  if (existsSync(join(folder, 'node_modules/@diffusion-ts/core')) && (!only || only.has('core'))) {
    const probe = run('node', ['missing-peer.mjs'], { cwd: folder });
    // Clear = names the package and says to install it (Node's bare ERR_MODULE_NOT_FOUND does not).
    const clear = /tfjs-backend-wasm/.test(probe.output) && /install/i.test(probe.output);
    record('core', 'missing peer message', probe.ok && clear ? 'PASS' : 'FAIL', tail(probe.output, 6));
  }
}

// --- 4. publint and attw -------------------------------------------------------------------
if (!flag('--no-lint')) {
  const publint = join(root, 'node_modules/.bin/publint');
  const attw = join(root, 'node_modules/.bin/attw');
  for (const [short, entry] of packages) {
    if (only && !only.has(short)) continue;
    if (!entry.tarball) continue;
    const lint = run(publint, ['--strict', entry.dir]);
    record(short, 'publint --strict', lint.ok ? 'PASS' : 'FAIL', tail(lint.output, 10), lint.seconds);
    // ESM-only packages: the CommonJS resolution modes do not apply.
    const types = run(attw, [entry.tarball, '--profile', 'esm-only', '--format', 'ascii']);
    record(short, 'attw (esm-only)', types.ok ? 'PASS' : 'FAIL', types.ok ? '' : tail(types.output, 20), types.seconds);
  }
}

// --- summary -------------------------------------------------------------------------------
console.log('\n=== summary ===');
for (const { pkg, check, status, seconds } of results)
  console.log(`${status.padEnd(4)} ${pkg.padEnd(11)} ${check}${seconds ? ` ${seconds.toFixed(1)} s` : ''}`);
console.log('\npacked sizes:');
for (const [short, entry] of packages) {
  if (entry.tarball)
    console.log(
      `  @diffusion-ts/${short}: ${kib(entry.packedBytes)} packed, ${kib(entry.unpackedBytes)} unpacked, ${entry.fileCount} files`,
    );
}
if (!flag('--keep')) rmSync(work, { recursive: true, force: true });
else console.log(`kept ${work}`);
const failed = results.filter((result) => result.status === 'FAIL');
console.log(failed.length ? `\n${failed.length} check(s) failed` : '\nall checks passed');
process.exit(failed.length ? 1 : 0);
