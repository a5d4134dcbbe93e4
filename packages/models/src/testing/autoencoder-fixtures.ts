import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FixtureArray } from './fixtures.js';

/** The tiny AutoencoderKL fixture folder written by Diffusers (config, weights, io.json, tiled.json). */
export const AUTOENCODER_KL_SMALL_FOLDER = fileURLToPath(new URL('../../../../fixtures/diffusers/autoencoder_kl_small/', import.meta.url));

/** The second tiny AutoencoderKL (3 levels, Attn encoder/decoder blocks, no quant convs, gelu). */
export const AUTOENCODER_KL_VARIANT_FOLDER = fileURLToPath(
  new URL('../../../../fixtures/diffusers/autoencoder_kl_variant/', import.meta.url),
);

/** The variant's `io.json` (NCHW). */
export interface AutoencoderKLVariantIo {
  num_parameters: number;
  parameter_names: string[];
  inputs: { image: FixtureArray };
  outputs: { latent_dist_mean: FixtureArray; latent_dist_logvar: FixtureArray; decode_of_mean: FixtureArray; kl: FixtureArray };
}

/** `io.json`: Diffusers' encode and decode of fixed inputs (NCHW). */
export interface AutoencoderKLIo {
  inputs: { image: FixtureArray; latent: FixtureArray };
  outputs: {
    latent_dist_mean: FixtureArray;
    latent_dist_logvar: FixtureArray;
    decode_of_latent: FixtureArray;
    forward_posterior_mode: FixtureArray;
  };
}

/** `tiled.json`: Diffusers' tiled encode and decode (NCHW) and a posterior's KL. */
export interface AutoencoderKLTiled {
  tiling: { tile_sample_min_size: number; tile_latent_min_size: number; tile_overlap_factor: number };
  inputs: { latent: FixtureArray; image: FixtureArray };
  outputs: {
    tiled_decode: FixtureArray;
    tiled_latent_dist_mean: FixtureArray;
    tiled_latent_dist_logvar: FixtureArray;
    kl_of_io_image: FixtureArray;
  };
}

/** Reads and parses a JSON file of an AutoencoderKL fixture folder (default the small one). */
export function readAutoencoderFixture<T>(name: 'io.json' | 'tiled.json' | 'config.json', folder = AUTOENCODER_KL_SMALL_FOLDER): T {
  return JSON.parse(readFileSync(`${folder}${name}`, 'utf8')) as T;
}

/** The largest `|actual - expected| / max(1, |expected|)` (the fixtures' parity measure). */
export function maxScaledError(
  actual: { dataSync(): ArrayLike<number>; shape: number[] },
  expected: { dataSync(): ArrayLike<number>; shape: number[] },
): number {
  if (actual.shape.join() !== expected.shape.join())
    throw new Error(`shape [${actual.shape.join(', ')}] differs from [${expected.shape.join(', ')}]`);
  const a = actual.dataSync();
  const b = expected.dataSync();
  let worst = 0;
  for (let i = 0; i < b.length; i += 1) {
    const error = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (!(error <= worst)) worst = error; // NaN propagates as the worst error
  }
  return worst;
}
