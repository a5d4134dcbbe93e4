import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '@diffusion-ts/core';
import * as tf from '@tensorflow/tfjs-core';
import type { WeightTensor } from '../weights.js';

/** The tiny UNet2DModel fixture folder written by Diffusers. */
export const UNET2D_TINY_FOLDER = fileURLToPath(new URL('../../../../fixtures/diffusers/unet2d_tiny/', import.meta.url));

/** A fixture array: `{ dtype, shape, data }`, data flat in C order. */
export interface FixtureArray {
  dtype: string;
  shape: number[];
  data: number[];
}

/** Reads and parses a JSON file of the fixture folder. */
export function readFixtureJson<T>(name: string): T {
  return JSON.parse(readFileSync(`${UNET2D_TINY_FOLDER}${name}`, 'utf8')) as T;
}

/** An NCHW fixture array as an NHWC float32 tensor. */
export function nchwToNhwc(array: FixtureArray): tf.Tensor4D {
  return tf.tidy(() =>
    tf.transpose(tf.tensor4d(Float32Array.from(array.data), array.shape as [number, number, number, number]), [0, 2, 3, 1]),
  );
}

/** The tensors of a safetensors file (read with core's reader). */
export function readSafetensorsForTest(path: string): Record<string, WeightTensor> {
  return readSafetensors(new Uint8Array(readFileSync(path))).tensors;
}

/** The largest absolute difference between two tensors. */
export function maxAbsDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}
