import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Every package's suites, then the docs site's Chromium end-to-end test (needs the built site,
    // which `npm test` builds first through turbo).
    projects: ['packages/*/vitest.config.ts', 'apps/docs/vitest.config.ts'],
  },
});
