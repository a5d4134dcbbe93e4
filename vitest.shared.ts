import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const packages = ['core', 'native', 'schedulers', 'losses', 'models', 'pipelines'];

/** Tests import workspace packages from source, so no build is needed before testing. */
export const sourceAliases = Object.fromEntries(
  packages.map((name) => [`@diffusion-ts/${name}`, `${root}packages/${name}/src/index.ts`]),
);

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
