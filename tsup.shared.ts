import { defineConfig, type Options } from 'tsup';

/**
 * The build every package shares: ESM for ES2022 with declarations and source maps, dist/ cleaned
 * first. A package's tsup.config.ts passes its `entry` (and anything it needs beyond this).
 */
export function packageBuild(options: Options & Required<Pick<Options, 'entry'>>) {
  return defineConfig({
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    ...options,
  });
}
