import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { LoadError } from '@diffusion-ts/core';
import { decodeImage, loadImageFolder } from './image-folder.js';

describe('loadImageFolder', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'image-folder-test-'));
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  async function png(name: string, width: number, height: number, channels: number, value: number): Promise<void> {
    const data = new Uint8Array(width * height * channels).fill(value);
    await writeFile(join(name), encodePng({ width, height, data, channels, depth: 8 }));
  }

  it('loads PNG and JPEG files of one size as NHWC in [-1, 1]', async () => {
    const dir = join(folder, 'good');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    await png(join(dir, 'a.png'), 4, 3, 3, 255);
    await png(join(dir, 'b.png'), 4, 3, 1, 0);
    const rgba = new Uint8Array(4 * 3 * 4).fill(255);
    await writeFile(join(dir, 'c.jpg'), jpeg.encode({ data: rgba, width: 4, height: 3 }, 95).data);
    await writeFile(join(dir, 'notes.txt'), 'not an image');
    const data = await loadImageFolder(dir);
    expect(data.shape).toEqual([3, 3, 4, 3]);
    expect(data.images[0]).toBe(1);
    expect(data.images[4 * 3 * 3]).toBe(-1);
    expect(data.images[2 * 4 * 3 * 3]).toBeGreaterThan(0.95);
    const grey = await loadImageFolder(dir, { channels: 1, limit: 2 });
    expect(grey.shape).toEqual([2, 3, 4, 1]);
  });

  it('decodes by extension, in any case, without a file system', () => {
    const bytes = encodePng({ width: 2, height: 1, data: new Uint8Array([0, 255]), channels: 1, depth: 8 });
    expect(decodeImage(bytes, 'folder.v2/IMAGE.PNG')).toMatchObject({ width: 2, height: 1, channels: 1 });
    expect(() => decodeImage(bytes, 'image.jpeg')).toThrow(/cannot decode image image\.jpeg/);
  });

  it('rejects a folder without images, mixed sizes and a missing folder', async () => {
    const empty = join(folder, 'empty');
    const mixed = join(folder, 'mixed');
    const fs = await import('node:fs/promises');
    await fs.mkdir(empty);
    await fs.mkdir(mixed);
    await writeFile(join(empty, 'readme.md'), 'x');
    await expect(loadImageFolder(empty)).rejects.toThrow(/contains no images/);
    await png(join(mixed, 'a.png'), 4, 4, 3, 1);
    await png(join(mixed, 'b.png'), 5, 4, 3, 1);
    await expect(loadImageFolder(mixed)).rejects.toThrow(/images differ in size: a\.png is 4x4 but b\.png is 5x4/);
    await expect(loadImageFolder(join(folder, 'missing'))).rejects.toThrow(/cannot read folder/);
    await writeFile(join(mixed, 'c.png'), 'garbage');
    await expect(loadImageFolder(mixed, { limit: 1 })).resolves.toBeDefined();
  });

  /** A PNG whose header declares `width` x `height` (8-bit grey), with a token IDAT: enough for the header check. */
  function pngHeader(width: number, height: number): Uint8Array {
    const bytes = new Uint8Array(8 + 25 + 12);
    bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const view = new DataView(bytes.buffer);
    view.setUint32(8, 13);
    bytes.set(new TextEncoder().encode('IHDR'), 12);
    view.setUint32(16, width);
    view.setUint32(20, height);
    bytes.set([8, 0, 0, 0, 0], 24); // depth 8, grey, deflate, no filter, no interlace (CRC left 0)
    view.setUint32(33, 0);
    bytes.set(new TextEncoder().encode('IEND'), 37);
    return bytes;
  }

  /** A JPEG whose baseline frame header declares `width` x `height` (3 components). */
  function jpegHeader(width: number, height: number): Uint8Array {
    const bytes = new Uint8Array([
      0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 17, 8, 0, 0, 0, 0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xff, 0xd9,
    ]);
    const view = new DataView(bytes.buffer);
    view.setUint16(13, height);
    view.setUint16(15, width);
    return bytes;
  }

  it('refuses images above the pixel cap from their header, before decoding (issue 17)', async () => {
    for (const [bytes, name] of [
      [pngHeader(20_000, 20_000), 'bomb.png'],
      [jpegHeader(30_000, 30_000), 'bomb.jpg'],
      [pngHeader(2 ** 31 - 1, 2 ** 31 - 1), 'huge.png'],
    ] as const) {
      let caught: unknown;
      try {
        decodeImage(bytes, name);
      } catch (error) {
        caught = error;
      }
      expect(caught, name).toBeInstanceOf(LoadError);
      expect((caught as LoadError).fault).toBe('too-large');
      expect((caught as Error).message).toMatch(/megapixels\), more than the 64-megapixel cap \(maxPixels\)/);
    }
    const dir = join(folder, 'bomb');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    await writeFile(join(dir, 'a.png'), pngHeader(20_000, 20_000));
    const before = process.memoryUsage().arrayBuffers;
    await expect(loadImageFolder(dir)).rejects.toThrow(/20000x20000/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
    // The cap is an option, both ways.
    const small = encodePng({ width: 4, height: 3, data: new Uint8Array(12), channels: 1, depth: 8 });
    expect(() => decodeImage(small, 'small.png', { maxPixels: 10 })).toThrow(
      /more than the 1e-5-megapixel cap|more than the 0\.00001-megapixel cap/,
    );
    expect(decodeImage(small, 'small.png', { maxPixels: 12 }).width).toBe(4);
    expect(() => decodeImage(pngHeader(9000, 9000), 'big.png', { maxPixels: 100e6 })).toThrow(/cannot decode image big\.png/);
    // Not PNG or JPEG at all: the decoder's own error, named.
    expect(() => decodeImage(new Uint8Array([1, 2, 3]), 'x.png')).toThrow(/cannot decode image x\.png/);
  });
});
