import { ConfigError } from '@diffusion-ts/core';
import { expect } from 'vitest';

/**
 * Runs `build`, which must throw a `ConfigError` within 2 s (refusals come before any large
 * allocation), and returns it. For the config-bounds tests (not exported by `./testing`).
 */
export function expectConfigError(build: () => unknown): ConfigError {
  const started = performance.now();
  let caught: unknown;
  try {
    build();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a ConfigError').toBeInstanceOf(ConfigError);
  expect(performance.now() - started).toBeLessThan(2000);
  return caught as ConfigError;
}
