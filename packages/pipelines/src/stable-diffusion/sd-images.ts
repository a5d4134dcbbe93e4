/**
 * Image and mask tensors in and out of latent pipelines, as Diffusers' `VaeImageProcessor` does
 * them: images NHWC in [0, 1] (normalised to [-1, 1] for the VAE), masks binarised at 0.5 and
 * taken to latent size by nearest neighbour, decoded images clamped to [0, 1], 8-bit PNGs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { encodeImagePng } from '../images.js';

/**
 * Checks an image batch [B, H, W, C] in [0, 1] of the pipeline's size and returns it as the VAE
 * takes it, `2x - 1`. Wrong rank, size, channel count or non-finite values throw before anything
 * runs.
 */
export function normalizeImage(
  image: tf.Tensor4D,
  height: number,
  width: number,
  channels: number,
  context: string,
  name = 'image',
): tf.Tensor4D {
  checkImageShape(image, height, width, channels, context, name);
  return tf.tidy(() => {
    const [low, high] = [tf.min(image).dataSync()[0], tf.max(image).dataSync()[0]];
    if (!Number.isFinite(low) || !Number.isFinite(high)) throw new RangeError(`${context}: ${name} holds NaN or infinite values`);
    if (low < 0 || high > 1) throw new RangeError(`${context}: ${name} values must lie in [0, 1] (got [${low}, ${high}])`);
    return tf.sub(tf.mul(image, 2), 1) as tf.Tensor4D;
  });
}

/** Throws unless `image` is [B, height, width, channels]. */
export function checkImageShape(image: tf.Tensor4D, height: number, width: number, channels: number, context: string, name: string): void {
  if (!(image instanceof tf.Tensor) || image.rank !== 4) throw new TypeError(`${context}: ${name} must be a [B, H, W, C] tensor (NHWC)`);
  const [, h, w, c] = image.shape;
  if (h !== height || w !== width)
    throw new RangeError(
      `${context}: ${name} is ${h}x${w} but the pipeline makes ${height}x${width} images (pass height and width, or resize it)`,
    );
  if (c !== channels) throw new RangeError(`${context}: ${name} has ${c} channels, expected ${channels}`);
}

/**
 * The inpainting mask [B, H, W, 1] (1 = repaint) binarised at 0.5 (`>= 0.5` is 1), as Diffusers'
 * mask processor does.
 */
export function binarizeMask(mask: tf.Tensor4D, height: number, width: number, context: string): tf.Tensor4D {
  checkImageShape(mask, height, width, 1, context, 'mask');
  return tf.tidy(() => tf.cast(tf.greaterEqual(mask, 0.5), 'float32') as tf.Tensor4D);
}

/**
 * A full-size mask at latent size: every `factor`-th pixel from the first, PyTorch's
 * `interpolate(mode='nearest')` for an integer factor.
 */
export function maskToLatentSize(mask: tf.Tensor4D, factor: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [batch, height, width] = mask.shape;
    return tf.stridedSlice(mask, [0, 0, 0, 0], [batch, height, width, 1], [1, factor, factor, 1]) as tf.Tensor4D;
  });
}

/** Decoded images ([-1, 1] nominally) to [0, 1]: `clamp(x / 2 + 0.5, 0, 1)`. */
export function denormalizeImage(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.add(tf.div(images, 2), 0.5), 0, 1) as tf.Tensor4D);
}

/** `Math.round` with halves to the even neighbour, as numpy's `round` (Diffusers' `numpy_to_pil`). */
function roundHalfEven(value: number): number {
  const rounded = Math.round(value);
  return rounded - value === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

/** Images [B, H, W, C] in [0, 1] as PNG files (`round(x * 255)`, half to even as numpy). */
export async function imagesToPng(images: tf.Tensor4D): Promise<Uint8Array[]> {
  const [batch, height, width, channels] = images.shape;
  const values = await images.data();
  const size = height * width * channels;
  const files: Uint8Array[] = [];
  for (let b = 0; b < batch; b += 1) {
    const pixels = new Uint8Array(size);
    for (let i = 0; i < size; i += 1) pixels[i] = Math.min(255, Math.max(0, roundHalfEven(values[b * size + i] * 255)));
    files.push(encodeImagePng({ width, height, channels, pixels }));
  }
  return files;
}
