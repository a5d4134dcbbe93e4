/** Where the shipped MNIST models live: `models/mnist-ddpm` and `models/mnist-class-ddpm` at the repository root. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository-relative folder of the shipped unconditional model. */
export const SHIPPED_MODEL_FOLDER = join('models', 'mnist-ddpm');

/** The repository-relative folder of the shipped class-conditional model (digits 0-9 and a null class). */
export const SHIPPED_CLASS_MODEL_FOLDER = join('models', 'mnist-class-ddpm');

/**
 * Finds a shipped model folder (default `models/mnist-ddpm`) by walking up from this file (src/ or
 * dist/ of the package) and from the working directory; returns the first folder that holds
 * `model_index.json`, else undefined.
 */
export function findShippedModel(relativeFolder: string = SHIPPED_MODEL_FOLDER): string | undefined {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    let folder = resolve(start);
    for (;;) {
      const candidate = join(folder, relativeFolder);
      if (existsSync(join(candidate, 'model_index.json'))) return candidate;
      const parent = dirname(folder);
      if (parent === folder) break;
      folder = parent;
    }
  }
  return undefined;
}
