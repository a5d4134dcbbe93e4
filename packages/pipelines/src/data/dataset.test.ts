import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { BatchIterator, type BatchIteratorState } from './dataset.js';
import type { ImageDataset } from './mnist.js';

const DATA: ImageDataset = {
  images: Float32Array.from({ length: 10 * 2 * 3 }, (_, i) => i),
  shape: [10, 2, 3, 1],
  labels: Int32Array.from({ length: 10 }, (_, i) => i),
};

async function labels(iterator: BatchIterator, batches: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < batches; i++) {
    const batch = iterator.next();
    out.push(...(await batch.labels!.data()));
    tf.dispose([batch.images, batch.labels!]);
  }
  return out;
}

describe('BatchIterator', () => {
  beforeAll(() => initBackend('cpu'));

  it('visits every image once per epoch in a seeded order', async () => {
    const order = await labels(new BatchIterator(DATA, { batchSize: 5, seed: 3 }), 2);
    expect([...order].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await labels(new BatchIterator(DATA, { batchSize: 5, seed: 3 }), 2)).toEqual(order);
    expect(await labels(new BatchIterator(DATA, { batchSize: 5, seed: 4 }), 2)).not.toEqual(order);
  });

  it('resumes from a saved state with the same batches', async () => {
    const a = new BatchIterator(DATA, { batchSize: 3, seed: 1, randomFlip: true });
    await labels(a, 4);
    const state = JSON.parse(JSON.stringify(a.getState())) as BatchIteratorState;
    const expected = await labels(a, 5);
    const b = new BatchIterator(DATA, { batchSize: 3, seed: 1, randomFlip: true });
    b.setState(state);
    expect(await labels(b, 5)).toEqual(expected);
  });

  it('flips images horizontally', async () => {
    const iterator = new BatchIterator(
      { images: DATA.images.slice(0, 6), shape: [1, 2, 3, 1] },
      { batchSize: 16, randomFlip: true, seed: 0 },
    );
    const batch = iterator.next();
    const values = await batch.images.data();
    const rows = [];
    for (let n = 0; n < 16; n++) rows.push(Array.from(values.slice(n * 6, n * 6 + 3)).join(','));
    expect(new Set(rows)).toEqual(new Set(['0,1,2', '2,1,0']));
    batch.images.dispose();
  });

  it('rejects bad batch sizes and empty data', () => {
    expect(() => new BatchIterator(DATA, { batchSize: 0 })).toThrow(/batchSize/);
    expect(() => new BatchIterator({ images: new Float32Array(0), shape: [0, 2, 2, 1] }, { batchSize: 1 })).toThrow(/empty/);
  });
});
