import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const packages = ['core', 'native', 'schedulers', 'losses', 'models', 'tokenizers', 'pipelines'];

/**
 * Tests import workspace packages from source, so no build is needed before testing: each
 * package's entry point, the `./testing` subpaths of core and models, and native's
 * `./fused-kernels`.
 */
export const sourceAliases = [
  { find: /^@diffusion-ts\/core\/testing$/, replacement: `${root}packages/core/src/testing/index.ts` },
  { find: /^@diffusion-ts\/native\/fused-kernels$/, replacement: `${root}packages/native/src/fused-kernels.ts` },
  { find: /^@diffusion-ts\/models\/testing$/, replacement: `${root}packages/models/src/testing/index.ts` },
  ...packages.map((name) => ({
    find: new RegExp(`^@diffusion-ts/${name}$`),
    replacement: `${root}packages/${name}/src/index.ts`,
  })),
];

export function packageTestConfig(configUrl: string) {
  const dir = fileURLToPath(new URL('.', configUrl));
  return defineConfig({
    resolve: { alias: sourceAliases },
    test: {
      root: dir,
      name: dir.split('/').filter(Boolean).at(-1),
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      pool: 'forks',
      passWithNoTests: true,
    },
  });
}

/**
 * A package's benchmark config (`bench/vitest.config.ts`): only the `bench/*.bench.ts` files (plain
 * vitest tests that print a table), one at a time and unmerged with the package's test config,
 * whose unit tests would otherwise run alongside and skew every timing.
 */
export function packageBenchConfig(configUrl: string, options: { timeoutMs?: number; execArgv?: string[] } = {}) {
  const timeout = options.timeoutMs ?? 900_000;
  return defineConfig({
    resolve: { alias: sourceAliases },
    test: {
      root: fileURLToPath(new URL('..', configUrl)),
      include: ['bench/**/*.bench.ts'],
      pool: 'forks',
      ...(options.execArgv ? { poolOptions: { forks: { execArgv: options.execArgv } } } : {}),
      fileParallelism: false,
      testTimeout: timeout,
      hookTimeout: Math.min(timeout, 900_000),
      disableConsoleIntercept: true,
    },
  });
}
