import { defineConfig } from 'vitest/config';
import { sourceAliases } from '../../../vitest.shared';

/** Runs only the benchmark files, one at a time, with `global.gc` exposed for the memory figures. */
export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['bench/**/*.bench.ts'],
    pool: 'forks',
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 900_000,
    disableConsoleIntercept: true,
  },
});
