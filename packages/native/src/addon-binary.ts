/**
 * Finding and loading the addon's binary: the prebuilt one the package ships
 * (`prebuilds/<platform>-<arch>/*.node`, prebuildify's layout, N-API so that one binary serves
 * every Node version) first, then `build/diffusion_native.node`, which the install script compiles
 * where no prebuilt binary loads.
 *
 * Node only. Node's built-in modules are imported by computed name, so browser bundles never see
 * them, and the paths are computed too, so bundlers do not try to treat the binaries as assets.
 */

/** A binary file that may hold the addon. */
export interface AddonBinary {
  /** Its absolute path. */
  file: string;
  /** Shipped in the package (`prebuilds/`) rather than compiled here (`build/`). */
  prebuilt: boolean;
}

/** The package root relative to this module; `src/` and `dist/` both sit one level below it. */
const PACKAGE_ROOT = ['..', ''].join('/');

/** A Node built-in's CommonJS module object, imported by a name bundlers cannot see. */
export async function nodeBuiltin<T>(name: string): Promise<T> {
  const module = (await import(/* @vite-ignore */ name)) as { default?: T };
  return (module.default ?? module) as T;
}

/**
 * The binaries to try, best first: this platform's prebuilt ones (file names tagged `napi`, as
 * prebuildify names them; a binary built for another C library simply fails to load and the next
 * is tried), then the one compiled at install.
 */
export async function addonBinaries(): Promise<AddonBinary[]> {
  const { readdirSync, existsSync } = await nodeBuiltin<typeof import('node:fs')>('node:fs');
  const { fileURLToPath } = await nodeBuiltin<typeof import('node:url')>('node:url');
  const root = fileURLToPath(new URL(PACKAGE_ROOT, import.meta.url));
  const { platform, arch } = process;
  const prebuilt: AddonBinary[] = [];
  const prebuilds = `${root}prebuilds`;
  if (existsSync(prebuilds)) {
    // prebuildify may name a folder for several architectures (darwin-x64+arm64).
    const folders = readdirSync(prebuilds).filter((name) => {
      const [os, archs] = name.split('-');
      return os === platform && (archs ?? '').split('+').includes(arch);
    });
    for (const folder of folders) {
      for (const name of readdirSync(`${prebuilds}/${folder}`).sort()) {
        if (name.endsWith('.node') && name.split('.').includes('napi')) {
          prebuilt.push({ file: `${prebuilds}/${folder}/${name}`, prebuilt: true });
        }
      }
    }
  }
  const built = `${root}build/diffusion_native.node`;
  return existsSync(built) ? [...prebuilt, { file: built, prebuilt: false }] : prebuilt;
}

/**
 * Loads the first of `addonBinaries()` that loads and that `check` accepts (it returns why not,
 * or undefined). Rejects naming every binary tried and why it was passed over, or that there is none.
 */
export async function requireAddonBinary(
  check: (exports: unknown) => string | undefined,
): Promise<{ exports: unknown; binary: AddonBinary }> {
  const { createRequire } = await nodeBuiltin<typeof import('node:module')>('node:module');
  const require = createRequire(import.meta.url);
  const candidates = await addonBinaries();
  const problems: string[] = [];
  for (const binary of candidates) {
    let exports: unknown;
    try {
      exports = require(binary.file);
    } catch (error) {
      problems.push(`${binary.file} does not load here (${error instanceof Error ? error.message : String(error)})`);
      continue;
    }
    const problem = check(exports);
    if (problem === undefined) return { exports, binary };
    problems.push(`${binary.file} ${problem}`);
  }
  throw new Error(
    problems.length === 0 ? `no prebuilt binary for ${process.platform}-${process.arch} and none built` : problems.join('; '),
  );
}
