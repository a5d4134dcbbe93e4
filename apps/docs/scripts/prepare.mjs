// Prepares the generated parts of the site before `vitepress build`/`dev`:
//  1. builds the workspace packages the site imports (skipped when turbo already runs us),
//  2. copies tfjs' wasm binaries into public/tfjs-wasm/ (the demo calls setWasmPaths on them),
//  3. copies the shipped MNIST models (models/mnist-ddpm and models/mnist-class-ddpm, Diffusers
//     layout) into public/models/ when they exist and writes public/models/manifest.json saying which
//     (with the guidance scale @diffusion-ts/pipelines uses for the class model),
//  4. generates the API reference (TypeDoc + typedoc-plugin-markdown) into api/.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const site = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(site, '../..');
const require = createRequire(join(site, 'package.json'));

async function step(label, body) {
  const started = performance.now();
  await body();
  console.log(`prepare: ${label} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

function run(command, args, cwd) {
  const child = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (child.status !== 0) throw new Error(`${command} ${args.join(' ')} failed with status ${child.status}`);
}

if (!process.env.TURBO_HASH && !process.argv.includes('--no-build')) {
  await step('built the workspace packages', () =>
    run('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=docs^...', '--output-logs=errors-only'], root),
  );
}

await step('copied tfjs wasm binaries', () => {
  const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist';
  const target = join(site, 'public/tfjs-wasm');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const file of readdirSync(wasmDist).filter((name) => name.endsWith('.wasm'))) cpSync(join(wasmDist, file), join(target, file));
});

await step('copied the shipped models (if any)', async () => {
  const target = join(site, 'public/models');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  /** Copies models/<name> into the site when it exists; says whether it did. */
  const copy = (name) => {
    const source = join(root, 'models', name);
    const present = existsSync(join(source, 'unet/config.json'));
    if (present) cpSync(source, join(target, name), { recursive: true });
    console.log(present ? `prepare: using models/${name}` : `prepare: no models/${name} yet`);
    return present;
  };
  // The unconditional model (a random tiny UNet stands in without it) and the digit picker's class-conditional one.
  // The class model's guidance scale is the one the CLI and `npm run demo -- --digit` use.
  const { DEFAULT_CLASS_GUIDANCE } = await import(pathToFileURL(join(root, 'packages/pipelines/dist/index.js')).href);
  const manifest = { shipped: copy('mnist-ddpm'), classShipped: copy('mnist-class-ddpm'), guidance: DEFAULT_CLASS_GUIDANCE };
  writeFileSync(join(target, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
});

await step('generated the API reference', () => {
  rmSync(join(site, 'api'), { recursive: true, force: true });
  run(join(site, 'node_modules/.bin/typedoc'), ['--options', 'typedoc.json'], site);
});
