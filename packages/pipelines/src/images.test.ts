import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { decode } from 'fast-png';
import { initBackend } from '@diffusion-ts/core';
import { encodeImagePng, imageGrid, scaleImage, tensorToImages } from './images.js';

describe('images', () => {
  beforeAll(() => initBackend('cpu'));

  it('maps [-1, 1] to 0..255 with clipping and lays images out in a grid', async () => {
    const tensor = tf.tensor4d([-1, 0, 1, 2, -3, 0.5, NaN, 1], [2, 2, 2, 1]);
    const images = await tensorToImages(tensor);
    tensor.dispose();
    expect(Array.from(images[0].pixels)).toEqual([0, 128, 255, 255]);
    expect(Array.from(images[1].pixels)).toEqual([0, 191, 0, 255]);
    const grid = imageGrid(images, 2, 1);
    expect([grid.width, grid.height]).toEqual([7, 4]);
    expect(grid.pixels[1 * 7 + 1]).toBe(0);
    expect(grid.pixels[1 * 7 + 4]).toBe(0);
    expect(grid.pixels[2 * 7 + 4]).toBe(0);
    expect(grid.pixels[2 * 7 + 5]).toBe(255);
    expect(grid.pixels[0]).toBe(0);
    const scaled = scaleImage(grid, 3);
    const png = decode(encodeImagePng(scaled));
    expect([png.width, png.height, png.channels]).toEqual([21, 12, 1]);
    expect(() => imageGrid([])).toThrow(/no images/);
  });
});
