import { defineConfig, mergeConfig } from 'vitest/config';
import { packageTestConfig } from '../../../vitest.shared';

/** Runs the benchmark files (plain vitest tests that print a table). */
export default mergeConfig(
  packageTestConfig(new URL('../vitest.config.ts', import.meta.url).href),
  defineConfig({ test: { include: ['bench/**/*.bench.ts'], testTimeout: 900_000, hookTimeout: 900_000 } }),
);
