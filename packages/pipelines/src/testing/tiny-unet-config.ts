/** Test helper: the tiny test UNet as a `config.json` file, for `diffusion-ts train --config`. */
import { writeFile } from 'node:fs/promises';
import { toSnakeCase } from '@diffusion-ts/core';
import { TINY_UNET } from '@diffusion-ts/models/testing';

/** Writes `TINY_UNET` to `file` as Diffusers writes a config.json: snake_case keys. */
export async function writeTinyUNetConfig(file: string): Promise<void> {
  await writeFile(file, JSON.stringify(Object.fromEntries(Object.entries(TINY_UNET).map(([key, value]) => [toSnakeCase(key), value]))));
}
