import { philox4x32 } from './philox.js';

/** A generator's full state, JSON-serialisable, for exact resumes. */
export interface GeneratorState {
  /** The 64-bit seed (the Philox key), as a decimal string. */
  seed: string;
  /** How many 32-bit words of the stream have been consumed, as a decimal string. */
  offset: string;
}

const TWO_POW_32 = 2 ** 32;

/**
 * A seeded random stream on Philox4x32-10. Word `i` of the stream is a pure function of the seed
 * and `i`, so the numbers are the same on every backend and platform, and drawing `n` then `m`
 * values equals drawing `n + m` at once (batch splits never change the numbers).
 *
 * Uniforms use one word each; normals use two words each (Box–Muller in float64, cosine branch,
 * rounded to float32).
 */
export class Generator {
  private readonly key: [number, number];
  private readonly seedValue: bigint;
  private offset: number;
  private readonly block = new Uint32Array(4);
  private blockIndex = -1;

  /** A generator for `seed` (an integer in [0, 2^64)). */
  constructor(seed: number | bigint = 0) {
    if (typeof seed === 'number' && (!Number.isSafeInteger(seed) || seed < 0)) {
      throw new Error(`Generator: seed must be a non-negative safe integer or a bigint, got ${seed}`);
    }
    const value = typeof seed === 'bigint' ? seed : BigInt(seed);
    if (value < 0n || value >= 1n << 64n) throw new Error(`Generator: seed must lie in [0, 2^64), got ${value}`);
    this.seedValue = value;
    this.key = [Number(value & 0xffffffffn), Number(value >> 32n)];
    this.offset = 0;
  }

  /** Restores a generator from `getState()`. */
  static fromState(state: GeneratorState): Generator {
    const generator = new Generator(BigInt(state.seed));
    generator.setState(state);
    return generator;
  }

  /** The seed and the stream position. */
  getState(): GeneratorState {
    return { seed: this.seedValue.toString(), offset: String(this.offset) };
  }

  /** Moves to a saved position (the seed must match). */
  setState(state: GeneratorState): void {
    if (BigInt(state.seed) !== this.seedValue) {
      throw new Error(`Generator.setState: state is for seed ${state.seed}, this generator has seed ${this.seedValue}`);
    }
    const offset = Number(state.offset);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`Generator.setState: invalid offset '${state.offset}'`);
    this.offset = offset;
  }

  /** An independent copy at the same position. */
  clone(): Generator {
    return Generator.fromState(this.getState());
  }

  private word(index: number): number {
    const blockIndex = Math.floor(index / 4);
    if (blockIndex !== this.blockIndex) {
      philox4x32([blockIndex % TWO_POW_32, Math.floor(blockIndex / TWO_POW_32), 0, 0], this.key, this.block);
      this.blockIndex = blockIndex;
    }
    return this.block[index % 4];
  }

  private nextWord(): number {
    const value = this.word(this.offset);
    this.offset += 1;
    return value;
  }

  /** `count` uniform floats in the open interval (0, 1), 24-bit resolution. */
  uniform(count: number): Float32Array {
    const out = new Float32Array(checkCount(count));
    for (let i = 0; i < count; i++) out[i] = ((this.nextWord() >>> 8) + 0.5) / 16777216;
    return out;
  }

  /** `count` standard normal floats (float64 Box–Muller, rounded to float32). */
  normal(count: number): Float32Array {
    const out = new Float32Array(checkCount(count));
    for (let i = 0; i < count; i++) {
      const u1 = (this.nextWord() + 0.5) / TWO_POW_32;
      const u2 = (this.nextWord() + 0.5) / TWO_POW_32;
      out[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
    return out;
  }

  /** `count` integers uniform in [low, high). */
  randomIntegers(count: number, low: number, high: number): Int32Array {
    if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
      throw new Error(`Generator.randomIntegers: need integers low < high, got [${low}, ${high})`);
    }
    const out = new Int32Array(checkCount(count));
    const span = high - low;
    for (let i = 0; i < count; i++) out[i] = low + Math.floor((this.nextWord() / TWO_POW_32) * span);
    return out;
  }
}

function checkCount(count: number): number {
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`Generator: count must be a non-negative integer, got ${count}`);
  return count;
}

/** `count` integers uniform in [low, high) drawn from `generator`. */
export function randomIntegers(count: number, low: number, high: number, generator: Generator): Int32Array {
  return generator.randomIntegers(count, low, high);
}
