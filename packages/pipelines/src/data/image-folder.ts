/**
 * A folder of PNG / JPEG images as an in-memory dataset (NHWC, [-1, 1]). Decoding uses fast-png
 * and jpeg-js. All images must share one size; grey, RGB and RGBA are converted to `channels`.
 */
import { decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { LoadError } from '@diffusion-ts/core';
import { fileExtension } from '../paths.js';
import { checkImagePixels, DEFAULT_MAX_PIXELS, readImageDimensions } from './image-header.js';
import type { ImageDataset } from './mnist.js';

/** Options of `loadImageFolder`. */
export interface LoadImageFolderOptions {
  /** Channels of the result: 1 (grey), 3 (RGB, default) or 4 (RGBA). */
  channels?: 1 | 3 | 4;
  /** Only the first `limit` images (in file name order). */
  limit?: number;
  /** The largest image accepted, in pixels, read from each file's header before decoding (default 64 megapixels). */
  maxPixels?: number;
}

/** Options of `decodeImage`. */
export interface DecodeImageOptions {
  /** The largest image accepted, in pixels, read from the header before decoding (default 64 megapixels). */
  maxPixels?: number;
}

/** A decoded image: 8-bit pixels, row-major, `channels` interleaved. */
export interface DecodedImage {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
}

const EXTENSIONS = ['.png', '.jpg', '.jpeg'];

/**
 * Decodes a PNG or JPEG file's bytes to 8-bit pixels (16-bit PNGs are scaled down); works in
 * browsers too. An image whose header declares more than `maxPixels` is refused (`LoadError`,
 * `too-large`) before the decoder allocates anything.
 */
export function decodeImage(bytes: Uint8Array, name: string, options: DecodeImageOptions = {}): DecodedImage {
  const extension = fileExtension(name).toLowerCase();
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  checkImagePixels(bytes, name, maxPixels);
  try {
    if (extension === '.png') {
      const png = decodePng(bytes);
      if (png.palette) throw new Error('palette PNGs are not supported');
      const data = png.depth === 16 ? Uint8Array.from(png.data as Uint16Array, (v) => v >> 8) : Uint8Array.from(png.data as Uint8Array);
      if (png.depth !== 8 && png.depth !== 16) throw new Error(`bit depth ${png.depth} is not supported (8 or 16)`);
      return { width: png.width, height: png.height, channels: png.channels, pixels: data };
    }
    const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxPixels / 1e6 });
    return { width: decoded.width, height: decoded.height, channels: 4, pixels: decoded.data };
  } catch (error) {
    throw new Error(`cannot decode image ${name}: ${(error as Error).message}`, { cause: error });
  }
}

/** Converts 8-bit pixels with `from` channels to floats in [-1, 1] with `to` channels. */
function convertPixels(image: DecodedImage, to: number, out: Float32Array, offset: number): void {
  const count = image.width * image.height;
  const from = image.channels;
  for (let i = 0; i < count; i++) {
    const p = image.pixels.subarray(i * from, i * from + from);
    const grey = from >= 3 ? 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] : p[0];
    const rgba = from >= 3 ? [p[0], p[1], p[2], from === 4 ? p[3] : 255] : [p[0], p[0], p[0], from === 2 ? p[1] : 255];
    for (let c = 0; c < to; c++) {
      const value = to === 1 ? grey : rgba[c];
      out[offset + i * to + c] = (value / 255) * 2 - 1;
    }
  }
}

/** The most float32 elements one typed array (the dataset) can hold. */
const MAX_DATASET_ELEMENTS = 2 ** 32;

/** Refuses, from the first image's header, a folder whose dataset could not be held in one array. */
function checkDatasetSize(bytes: Uint8Array, name: string, count: number, channels: number): void {
  const dimensions = readImageDimensions(bytes);
  if (dimensions === undefined) return;
  const elements = count * dimensions.width * dimensions.height * channels;
  if (elements > MAX_DATASET_ELEMENTS) {
    throw new LoadError(
      'too-large',
      name,
      `${count} images of ${dimensions.width}x${dimensions.height}x${channels} are ${elements} float32 values, more than one array holds (${MAX_DATASET_ELEMENTS}); use limit or smaller images`,
    );
  }
}

/**
 * Loads every `.png`, `.jpg` and `.jpeg` file of `folder` (not recursive), sorted by name (Node
 * only). Throws when the folder has no images or the images differ in size.
 */
export async function loadImageFolder(folder: string, options: LoadImageFolderOptions = {}): Promise<ImageDataset> {
  const channels = options.channels ?? 3;
  if (![1, 3, 4].includes(channels)) throw new Error(`loadImageFolder: channels must be 1, 3 or 4, got ${String(channels)}`);
  // Imported lazily so that browser bundles (which may use decodeImage) never load Node modules.
  const { readdir, readFile } = await import('node:fs/promises');
  const nodePath = await import('node:path');
  let entries: string[];
  try {
    entries = await readdir(folder);
  } catch (error) {
    throw new Error(`loadImageFolder: cannot read folder ${folder}: ${(error as Error).message}`, { cause: error });
  }
  let names = entries.filter((name) => EXTENSIONS.includes(fileExtension(name).toLowerCase())).sort();
  if (names.length === 0) throw new Error(`loadImageFolder: ${folder} contains no images (.png, .jpg, .jpeg)`);
  if (options.limit !== undefined) names = names.slice(0, options.limit);
  const images: DecodedImage[] = [];
  for (const name of names) {
    const bytes = new Uint8Array(await readFile(nodePath.join(folder, name)));
    if (images.length === 0) checkDatasetSize(bytes, nodePath.join(folder, name), names.length, channels);
    const image = decodeImage(bytes, nodePath.join(folder, name), { maxPixels: options.maxPixels });
    const first = images[0];
    if (first && (image.width !== first.width || image.height !== first.height)) {
      throw new Error(
        `loadImageFolder: images differ in size: ${names[0]} is ${first.width}x${first.height} but ${name} is ${image.width}x${image.height} (resize them to one size)`,
      );
    }
    images.push(image);
  }
  const { width, height } = images[0];
  const pixels = new Float32Array(images.length * width * height * channels);
  images.forEach((image, n) => convertPixels(image, channels, pixels, n * width * height * channels));
  return { images: pixels, shape: [images.length, height, width, channels] };
}
