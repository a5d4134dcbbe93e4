import { defineConfig } from 'vitest/config';
import { sourceAliases } from '../../../vitest.shared';

/**
 * Runs only the benchmark files (plain vitest tests that print a table), one at a time: merging
 * with the package's test config would append its unit tests and run them alongside, skewing
 * every timing.
 */
export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['bench/**/*.bench.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 3_600_000,
    hookTimeout: 900_000,
    disableConsoleIntercept: true,
  },
});
