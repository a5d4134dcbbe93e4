import { defineConfig } from 'vitest/config';

/** The docs site's end-to-end test: headless Debian Chromium against the built site. */
export default defineConfig({
  test: {
    name: 'docs',
    root: new URL('.', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
