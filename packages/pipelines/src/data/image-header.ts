/**
 * Image dimensions read from a PNG or JPEG header, so that a decompression bomb (a small file
 * declaring a huge image) is refused before the decoder allocates its pixels.
 */
import { LoadError } from '@diffusion-ts/core';

/** The default pixel cap of image readers: 64 megapixels (8192 x 8192 is 67). */
export const DEFAULT_MAX_PIXELS = 64e6;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from a PNG's IHDR chunk, or undefined when `bytes` is not a PNG. */
function pngDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 24 || !PNG_SIGNATURE.every((byte, i) => bytes[i] === byte)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return undefined;
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Width and height from a JPEG's first frame header (SOF0–SOF15), or undefined when none is found. */
function jpegDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1];
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image, or scan data before any frame
    const length = view.getUint16(offset + 2);
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (offset + 9 > bytes.length) return undefined;
      return { height: view.getUint16(offset + 5), width: view.getUint16(offset + 7) };
    }
    offset += 2 + length;
  }
  return undefined;
}

/** The dimensions a PNG or JPEG declares in its header, or undefined when it is neither (or has no readable header). */
export function readImageDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  return pngDimensions(bytes) ?? jpegDimensions(bytes);
}

/**
 * Refuses an image whose header declares more than `maxPixels` pixels, with a `LoadError`
 * (`too-large`) naming it. Images without a readable header are left to the decoder.
 */
export function checkImagePixels(bytes: Uint8Array, name: string, maxPixels = DEFAULT_MAX_PIXELS): void {
  if (!(maxPixels > 0)) throw new RangeError(`maxPixels must be a positive number, got ${String(maxPixels)}`);
  const dimensions = readImageDimensions(bytes);
  if (dimensions === undefined) return;
  const pixels = dimensions.width * dimensions.height;
  if (pixels <= maxPixels) return;
  const megapixels = (value: number) => String(Number((value / 1e6).toPrecision(6)));
  throw new LoadError(
    'too-large',
    name,
    `the image declares ${dimensions.width}x${dimensions.height} pixels (${megapixels(pixels)} megapixels), more than the ${megapixels(maxPixels)}-megapixel cap (maxPixels)`,
  );
}
