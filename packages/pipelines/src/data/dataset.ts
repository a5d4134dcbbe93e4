/**
 * Seeded mini-batches over an in-memory image dataset: a fresh permutation per epoch drawn from
 * core's `Generator`, optional random horizontal flips. The position (epoch, index, permutation
 * seed state) is JSON-serialisable so that a resumed run sees exactly the same batches.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Generator, type GeneratorState } from '@diffusion-ts/core';
import type { ImageDataset } from './mnist.js';

/** Options of `BatchIterator`. */
export interface BatchIteratorOptions {
  /** Images per batch. */
  batchSize: number;
  /** Seed of the shuffling and flipping stream (default 0). */
  seed?: number;
  /** Shuffle every epoch (default true). */
  shuffle?: boolean;
  /** Flip each image horizontally with probability 1/2 (default false). */
  randomFlip?: boolean;
}

/** The iterator's position, for checkpoints. */
export interface BatchIteratorState {
  epoch: number;
  index: number;
  generator: GeneratorState;
  /** The generator state at the start of the current epoch (the permutation is redrawn from it). */
  epochGenerator: GeneratorState;
}

/** One batch: NHWC pixels in [-1, 1] and their labels when the dataset has them. */
export interface Batch {
  images: tf.Tensor4D;
  labels?: tf.Tensor1D;
}

/** Endless seeded batches over a dataset (a batch never straddles two epochs' orders: it wraps). */
export class BatchIterator {
  readonly batchSize: number;
  private readonly shuffle: boolean;
  private readonly randomFlip: boolean;
  private generator: Generator;
  private epochGenerator: Generator;
  private order: Int32Array;
  private epoch = 0;
  private index = 0;

  constructor(
    readonly dataset: ImageDataset,
    options: BatchIteratorOptions,
  ) {
    const count = dataset.shape[0];
    if (count < 1) throw new Error('BatchIterator: the dataset is empty');
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new Error(`BatchIterator: batchSize must be a positive integer, got ${options.batchSize}`);
    }
    if (dataset.images.length !== dataset.shape.reduce((a, b) => a * b, 1)) {
      throw new Error(`BatchIterator: ${dataset.images.length} pixels do not fill shape [${dataset.shape.join(', ')}]`);
    }
    this.batchSize = options.batchSize;
    this.shuffle = options.shuffle ?? true;
    this.randomFlip = options.randomFlip ?? false;
    this.generator = new Generator(options.seed ?? 0);
    this.epochGenerator = this.generator.clone();
    this.order = this.drawOrder();
  }

  /** The position, for `setState`. */
  getState(): BatchIteratorState {
    return { epoch: this.epoch, index: this.index, generator: this.generator.getState(), epochGenerator: this.epochGenerator.getState() };
  }

  /** Returns to a position saved by `getState`. */
  setState(state: BatchIteratorState): void {
    this.epochGenerator = Generator.fromState(state.epochGenerator);
    this.generator = this.epochGenerator.clone();
    this.order = this.drawOrder();
    this.generator = Generator.fromState(state.generator);
    this.epoch = state.epoch;
    this.index = state.index;
  }

  /** The next batch; the caller disposes its tensors. */
  next(): Batch {
    const [, height, width, channels] = this.dataset.shape;
    const itemSize = height * width * channels;
    const pixels = new Float32Array(this.batchSize * itemSize);
    const labels = this.dataset.labels ? new Int32Array(this.batchSize) : undefined;
    for (let b = 0; b < this.batchSize; b++) {
      if (this.index >= this.order.length) {
        this.epoch += 1;
        this.index = 0;
        this.epochGenerator = this.generator.clone();
        this.order = this.drawOrder();
      }
      const item = this.order[this.index++];
      const source = this.dataset.images.subarray(item * itemSize, (item + 1) * itemSize);
      const flip = this.randomFlip && this.generator.uniform(1)[0] < 0.5;
      if (flip) {
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            for (let c = 0; c < channels; c++) {
              pixels[b * itemSize + (y * width + x) * channels + c] = source[(y * width + (width - 1 - x)) * channels + c];
            }
          }
        }
      } else pixels.set(source, b * itemSize);
      if (labels) labels[b] = this.dataset.labels![item];
    }
    return {
      images: tf.tensor4d(pixels, [this.batchSize, height, width, channels]),
      labels: labels ? tf.tensor1d(labels, 'int32') : undefined,
    };
  }

  /** A permutation of the dataset (Fisher–Yates on the generator's uniforms), or the identity. */
  private drawOrder(): Int32Array {
    const count = this.dataset.shape[0];
    const order = new Int32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    if (!this.shuffle) return order;
    const uniforms = this.generator.uniform(count);
    for (let i = count - 1; i > 0; i--) {
      const j = Math.min(i, Math.floor(uniforms[i] * (i + 1)));
      const swap = order[i];
      order[i] = order[j];
      order[j] = swap;
    }
    return order;
  }
}
