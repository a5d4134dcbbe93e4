import { defineConfig } from 'vitest/config';

/** `pnpm bench`: the throughput scripts, one process each, printing straight to the terminal. */
export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['bench/**/*.bench.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 600_000,
    disableConsoleIntercept: true,
  },
});
