import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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
  return tf.tidy(() => tf.transpose(tf.tensor4d(Float32Array.from(array.data), array.shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/** A minimal F32-only safetensors reader for tests (core's reader is the real one). */
export function readSafetensorsForTest(path: string): Record<string, WeightTensor> {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const start = 8 + headerLength;
  const tensors: Record<string, WeightTensor> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (entry.dtype !== 'F32') throw new Error(`readSafetensorsForTest: ${name} is ${entry.dtype}`);
    const [begin, end] = entry.data_offsets;
    const copy = new Uint8Array(bytes.subarray(start + begin, start + end));
    tensors[name] = { dtype: 'F32', shape: entry.shape, data: new Float32Array(copy.buffer) };
  }
  return tensors;
}

/** The largest absolute difference between two tensors. */
export function maxAbsDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}
