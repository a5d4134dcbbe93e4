// Browser bundle check (issue 9): builds two tiny Vite apps against the packages' published
// entry points (dist/, through apps/docs/node_modules), then
//  - fails if the build fails,
//  - fails if PNDM code ends up in the app that imports only DDIMScheduler + UNet2DModel
//    (tree-shaking); reports it for the same app through UnconditionalPipeline,
//  - fails if a @diffusion-ts package imports a Node built-in statically (Vite stubs it with an
//    empty module: named imports break the build, default/namespace imports break at run time);
//    lists the lazy `import('node:…')` ones, which only run in Node code paths,
//  - prints the bundle contribution of each package (rendered bytes after tree-shaking, before
//    minification) and the minified + gzipped size of the whole bundle.
// Usage: node bundle-check/run.mjs   (packages must be built: `pnpm exec turbo run build`)
import { gzipSync } from 'node:zlib';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, createLogger } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');
/** Strings that only PNDMScheduler's code contains (property and error text survive minifying). */
const PNDM_MARKERS = ['prkTimesteps', 'PLMS steps need'];

function packageOf(id) {
  const workspace = id.match(/\/packages\/([^/]+)\/dist\//);
  if (workspace) return `@diffusion-ts/${workspace[1]}`;
  const parts = id.split('node_modules/');
  if (parts.length > 1) {
    const last = parts.at(-1).split('/');
    return last[0].startsWith('@') ? `${last[0]}/${last[1]}` : last[0];
  }
  if (id.includes('vite/') || id.startsWith('\0')) return '(vite runtime)';
  return '(app)';
}

async function bundle(entry) {
  const outDir = join(here, 'dist', entry);
  const warnings = [];
  const logger = createLogger('warn');
  const originalWarn = logger.warn.bind(logger);
  logger.warn = (message, options) => {
    warnings.push(message);
    // One line per Node built-in and importer, and chunking notes on them: summarised below instead.
    if (!/externalized for browser compatibility|__vite-browser-external is dynamically imported/.test(message))
      originalWarn(message, options);
  };
  const contributions = new Map();
  /** @diffusion-ts files that import a Node built-in statically / lazily. */
  const nodeImporters = { static: new Set(), lazy: new Set() };
  const started = performance.now();
  await build({
    configFile: false,
    root: here,
    logLevel: 'warn',
    customLogger: logger,
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      minify: true,
      reportCompressedSize: false,
      chunkSizeWarningLimit: 10_000,
      lib: { entry: join(here, 'src', `${entry}.ts`), formats: ['es'], fileName: entry },
      rollupOptions: {
        onwarn(warning, warn) {
          warnings.push(`${warning.code}: ${warning.message}`);
          warn(warning);
        },
        plugins: [
          {
            name: 'collect-contributions',
            generateBundle(_options, output) {
              for (const id of this.getModuleIds()) {
                if (!id.startsWith('__vite-browser-external')) continue;
                const info = this.getModuleInfo(id);
                for (const [kind, importers] of [
                  ['static', info.importers],
                  ['lazy', info.dynamicImporters],
                ]) {
                  for (const importer of importers) if (packageOf(importer).startsWith('@diffusion-ts/')) nodeImporters[kind].add(importer);
                }
              }
              for (const chunk of Object.values(output)) {
                if (chunk.type !== 'chunk') continue;
                for (const [id, info] of Object.entries(chunk.modules)) {
                  const name = packageOf(id);
                  const sizes = contributions.get(name) ?? { entry: 0, lazy: 0 };
                  sizes[chunk.isDynamicEntry ? 'lazy' : 'entry'] += info.renderedLength;
                  contributions.set(name, sizes);
                }
              }
            },
          },
        ],
      },
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const files = readdirSync(outDir).filter((file) => file.endsWith('.js'));
  const code = files.map((file) => readFileSync(join(outDir, file), 'utf8')).join('\n');
  return {
    entry,
    code,
    contributions,
    nodeImporters,
    warnings,
    seconds,
    minified: Buffer.byteLength(code),
    gzipped: gzipSync(code).length,
  };
}

const kib = (bytes) => `${(bytes / 1024).toFixed(1).padStart(8)} KiB`;
let failed = false;
const report = {};
rmSync(join(here, 'dist'), { recursive: true, force: true });
for (const entry of ['ddim-models', 'ddim-pipeline', 'all-schedulers']) {
  let result;
  try {
    result = await bundle(entry);
  } catch (error) {
    console.log(`FAIL ${entry}: build failed: ${error instanceof Error ? error.message : String(error)}`);
    failed = true;
    continue;
  }
  const markers = PNDM_MARKERS.filter((marker) => result.code.includes(marker));
  console.log(`\n== ${entry}: built in ${result.seconds.toFixed(1)} s, ${kib(result.minified)} minified, ${kib(result.gzipped)} gzipped`);
  console.log('contribution per package (after tree-shaking, before minifying; lazy = chunks loaded by import()):');
  console.log(`  ${'package'.padEnd(34)} ${'entry'.padStart(12)} ${'lazy'.padStart(12)}`);
  for (const [name, sizes] of [...result.contributions].sort((a, b) => b[1].entry + b[1].lazy - a[1].entry - a[1].lazy)) {
    console.log(`  ${name.padEnd(34)} ${kib(sizes.entry)} ${kib(sizes.lazy)}`);
  }
  const nodeOnly = [
    ...new Set(
      result.warnings
        .filter((warning) => /externalized for browser compatibility/.test(warning))
        .map((warning) => {
          const [, module, importer] = warning.match(/Module "([^"]+)" .* imported by "([^"]+)"/) ?? [];
          return module ? `${module} (${relative(root, importer)})` : warning;
        }),
    ),
  ];
  if (nodeOnly.length) console.log(`  Node built-ins stubbed for the browser: ${nodeOnly.join(', ')}`);
  const staticNode = [...result.nodeImporters.static].map((file) => relative(root, file));
  if (staticNode.length) {
    console.log(`FAIL Node built-ins imported statically (must be lazy import('node:…')) by: ${staticNode.join(', ')}`);
    failed = true;
  } else if (result.nodeImporters.lazy.size) {
    console.log(
      `  all Node built-in imports of @diffusion-ts packages are lazy (only run in Node code paths): ${[...result.nodeImporters.lazy].map((file) => relative(root, file)).join(', ')}`,
    );
  }
  console.log(`  PNDM markers present: ${markers.length ? markers.join(', ') : 'none'}`);
  if (entry === 'ddim-models' && markers.length) {
    console.log('FAIL tree-shaking: the DDIM-only bundle contains PNDMScheduler code');
    failed = true;
  }
  if (entry === 'ddim-pipeline' && markers.length) {
    console.log('  note: UnconditionalPipeline brings every scheduler (fromPretrained picks one by _class_name)');
  }
  if (entry === 'all-schedulers' && !markers.length) {
    console.log('FAIL marker check: PNDM markers not found even with PNDMScheduler imported (update PNDM_MARKERS)');
    failed = true;
  }
  report[entry] = {
    minifiedBytes: result.minified,
    gzippedBytes: result.gzipped,
    contributions: Object.fromEntries(result.contributions),
    pndmMarkers: markers,
    nodeOnlyStubs: nodeOnly,
    staticNodeImports: staticNode,
  };
}
const ours = ['core', 'schedulers', 'losses', 'models', 'pipelines'].map((name) => `@diffusion-ts/${name}`);
const entries = Object.keys(report);
console.log('\n== @diffusion-ts contribution per app (KiB after tree-shaking, before minifying: entry chunk + lazy chunks)');
console.log(`  ${'package'.padEnd(26)}${entries.map((entry) => entry.padStart(22)).join('')}`);
for (const name of ours) {
  const cells = entries.map((entry) => {
    const sizes = report[entry].contributions[name];
    return (sizes ? `${(sizes.entry / 1024).toFixed(1)} + ${(sizes.lazy / 1024).toFixed(1)}` : '-').padStart(22);
  });
  console.log(`  ${name.padEnd(26)}${cells.join('')}`);
}
console.log(
  `  ${'whole bundle, min + gzip'.padEnd(26)}${entries.map((entry) => `${(report[entry].gzippedBytes / 1024).toFixed(1)} KiB`.padStart(22)).join('')}`,
);
mkdirSync(join(here, 'dist'), { recursive: true });
writeFileSync(join(here, 'dist', 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(failed ? '\nbundle check FAILED' : '\nbundle check passed');
process.exit(failed ? 1 : 0);
