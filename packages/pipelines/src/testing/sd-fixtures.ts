/** Test support: the Stable Diffusion reference fixtures (sd_small, sd_small_inpaint) and a generator that replays Diffusers' draws. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Generator } from '@diffusion-ts/core';

/** The tiny Stable Diffusion folder (Diffusers' layout). */
export const SD_SMALL_FOLDER = fileURLToPath(new URL('../../../../fixtures/diffusers/sd_small/', import.meta.url));
/** sd_small with a 9-channel inpainting UNet. */
export const SD_SMALL_INPAINT_FOLDER = fileURLToPath(new URL('../../../../fixtures/diffusers/sd_small_inpaint/', import.meta.url));

/** A fixture array: dtype, shape, flat row-major data (NCHW for images and latents). */
export interface FixtureArray {
  dtype: string;
  shape: number[];
  data: number[];
}

/** One reference run of a Diffusers pipeline. */
export interface PipelineCase {
  name?: string;
  scheduler: string;
  inputs?: Record<string, unknown>;
  timesteps: FixtureArray;
  noise_draws?: { module: string; noise: FixtureArray }[];
  final_latents: FixtureArray;
  image: FixtureArray;
  image_postprocessed: FixtureArray;
}

/** sd_small/io.json. */
export interface SdSmallIo {
  prompt: string;
  negative_prompt: string;
  guidance_scale: number;
  num_inference_steps: number;
  start_latents: FixtureArray;
  cases: PipelineCase[];
}

/** Reads a JSON fixture. */
export function readJson<T>(folder: string, name: string): T {
  return JSON.parse(readFileSync(new URL(name, `file://${folder}`), 'utf8')) as T;
}

/** An NCHW fixture array as an NHWC tensor. */
export function nhwc(array: FixtureArray): tf.Tensor4D {
  return tf.tidy(() =>
    tf.transpose(tf.tensor4d(Float32Array.from(array.data), array.shape as [number, number, number, number]), [0, 2, 3, 1]),
  );
}

/** An NCHW fixture array's values in NHWC order. */
export function nhwcValues(array: FixtureArray): Float32Array {
  const [batch, channels, height, width] = array.shape;
  const out = new Float32Array(array.data.length);
  for (let b = 0; b < batch; b += 1)
    for (let c = 0; c < channels; c += 1)
      for (let y = 0; y < height; y += 1)
        for (let x = 0; x < width; x += 1)
          out[((b * height + y) * width + x) * channels + c] = array.data[((b * channels + c) * height + y) * width + x];
  return out;
}

/** max |a - b| / max(1, |b|) of a tensor against an NCHW fixture array. */
export function maxRelativeError(actual: tf.Tensor, expected: FixtureArray): number {
  const want = nhwcValues(expected);
  const got = actual.dataSync();
  if (got.length !== want.length) throw new Error(`size ${got.length} != ${want.length}`);
  let worst = 0;
  for (let i = 0; i < want.length; i += 1)
    worst = Math.max(worst, Math.abs(got[i] - Math.fround(want[i])) / Math.max(1, Math.abs(want[i])));
  return worst;
}

/**
 * A generator whose normal draws are the recorded `randn_tensor` results of a Diffusers run, in
 * call order (each NCHW draw given in NHWC order, as this library draws). Refuses a draw of another
 * size and draws past the recording.
 */
export class ReplayGenerator extends Generator {
  private readonly draws: Float32Array[];

  constructor(draws: readonly { noise: FixtureArray }[]) {
    super(0);
    this.draws = draws.map((draw) => nhwcValues(draw.noise));
  }

  override normal(count: number): Float32Array {
    const next = this.draws.shift();
    if (next === undefined) throw new Error(`ReplayGenerator: a draw of ${count} past the recorded ones`);
    if (next.length !== count) throw new Error(`ReplayGenerator: a draw of ${count} where Diffusers drew ${next.length}`);
    return next;
  }

  /** Draws not yet replayed. */
  get remaining(): number {
    return this.draws.length;
  }
}
