import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
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
});
