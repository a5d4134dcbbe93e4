import { describe, expect, it } from 'vitest';
import { Generator } from './generator.js';
import { philox4x32 } from './philox.js';

const hex = (words: Uint32Array) => Array.from(words, (w) => w.toString(16).padStart(8, '0')).join(' ');

describe('philox4x32', () => {
  // Known-answer vectors from Random123's kat_vectors (philox4x32_10).
  it('matches the Random123 known-answer tests', () => {
    expect(hex(philox4x32([0, 0, 0, 0], [0, 0]))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    expect(hex(philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]))).toBe(
      '408f276d 41c83b0e a20bc7c6 6d5451fd',
    );
    expect(hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]))).toBe(
      'd16cfe09 94fdcceb 5001e420 24126ea1',
    );
  });

  it('feeds the generator: word i is word i % 4 of block floor(i / 4), with a 64-bit block counter', () => {
    const block = philox4x32([5, 1, 0, 0], [42, 0]);
    const position = 4 * (2 ** 32 + 5) + 1;
    const generator = Generator.fromState({ algorithm: 'philox4x32-10', seed: '42', counter: String(position) });
    const expected = Array.from(block.subarray(1, 4), (w) => ((w >>> 8) + 0.5) / 2 ** 24);
    expect(Array.from(generator.uniform(3))).toEqual(expected.map(Math.fround));
  });
});
