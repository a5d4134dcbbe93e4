/** Where the shipped MNIST model lives: `models/mnist-ddpm` at the repository root. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository-relative folder of the shipped model. */
export const SHIPPED_MODEL_FOLDER = join('models', 'mnist-ddpm');

/**
 * Finds `models/mnist-ddpm` by walking up from this file (src/ or dist/ of the package) and from
 * the working directory; returns the first folder that holds `model_index.json`, else undefined.
 */
export function findShippedModel(): string | undefined {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    let folder = resolve(start);
    for (;;) {
      const candidate = join(folder, SHIPPED_MODEL_FOLDER);
      if (existsSync(join(candidate, 'model_index.json'))) return candidate;
      const parent = dirname(folder);
      if (parent === folder) break;
      folder = parent;
    }
  }
  return undefined;
}
