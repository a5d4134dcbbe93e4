/**
 * Sample tensors to pictures: NHWC [-1, 1] floats to 8-bit images, grids, PNG bytes and files.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { encode as encodePng } from 'fast-png';
import { writeFileAtomic } from '@diffusion-ts/core';

/** An 8-bit image with interleaved channels. */
export interface Image8 {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
}

/** Converts a [B, H, W, C] tensor in [-1, 1] to B 8-bit images (clipped, rounded). */
export async function tensorToImages(images: tf.Tensor4D): Promise<Image8[]> {
  if (images.rank !== 4) throw new Error(`tensorToImages: expected a [B, H, W, C] tensor, got shape [${images.shape.join(', ')}]`);
  const [batch, height, width, channels] = images.shape;
  const values = await images.data();
  const size = height * width * channels;
  const result: Image8[] = [];
  for (let b = 0; b < batch; b++) {
    const pixels = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const v = Math.round(((values[b * size + i] + 1) / 2) * 255);
      pixels[i] = v < 0 ? 0 : v > 255 ? 255 : Number.isNaN(v) ? 0 : v;
    }
    result.push({ width, height, channels, pixels });
  }
  return result;
}

/** Lays images of one size out in a grid (`columns` default: ceil(sqrt(n))) with `padding` pixels. */
export function imageGrid(images: readonly Image8[], columns?: number, padding = 2): Image8 {
  if (images.length === 0) throw new Error('imageGrid: no images');
  const { width, height, channels } = images[0];
  for (const image of images) {
    if (image.width !== width || image.height !== height || image.channels !== channels) {
      throw new Error('imageGrid: images must share one size and channel count');
    }
  }
  const cols = columns ?? Math.ceil(Math.sqrt(images.length));
  const rows = Math.ceil(images.length / cols);
  const gridWidth = cols * width + (cols + 1) * padding;
  const gridHeight = rows * height + (rows + 1) * padding;
  const pixels = new Uint8Array(gridWidth * gridHeight * channels);
  images.forEach((image, n) => {
    const left = padding + (n % cols) * (width + padding);
    const top = padding + Math.floor(n / cols) * (height + padding);
    for (let y = 0; y < height; y++) {
      pixels.set(image.pixels.subarray(y * width * channels, (y + 1) * width * channels), ((top + y) * gridWidth + left) * channels);
    }
  });
  return { width: gridWidth, height: gridHeight, channels, pixels };
}

/** Scales an image up by an integer factor (nearest neighbour), for viewing small samples. */
export function scaleImage(image: Image8, factor: number): Image8 {
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`scaleImage: factor must be a positive integer, got ${factor}`);
  if (factor === 1) return image;
  const width = image.width * factor;
  const height = image.height * factor;
  const c = image.channels;
  const pixels = new Uint8Array(width * height * c);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (Math.floor(y / factor) * image.width + Math.floor(x / factor)) * c;
      pixels.set(image.pixels.subarray(from, from + c), (y * width + x) * c);
    }
  }
  return { width, height, channels: c, pixels };
}

/** PNG bytes of an 8-bit image (1 = grey, 2 = grey+alpha, 3 = RGB, 4 = RGBA channels). */
export function encodeImagePng(image: Image8): Uint8Array {
  return encodePng({ width: image.width, height: image.height, data: image.pixels, channels: image.channels, depth: 8 });
}

/** Writes an image as a PNG file atomically. */
export async function writePng(path: string, image: Image8): Promise<void> {
  await writeFileAtomic(path, encodeImagePng(image));
}

/** Writes a [B, H, W, C] tensor in [-1, 1] as one PNG grid, optionally scaled up. */
export async function saveImageGrid(
  path: string,
  images: tf.Tensor4D,
  options: { columns?: number; padding?: number; scale?: number } = {},
): Promise<void> {
  const grid = imageGrid(await tensorToImages(images), options.columns, options.padding);
  await writePng(path, scaleImage(grid, options.scale ?? 1));
}
