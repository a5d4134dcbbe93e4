import { philox4x32 } from './philox.js';

/** A generator's full state, JSON-serialisable, for exact resumes. */
export interface GeneratorState {
  /** Always `'philox4x32-10'`: the stream this state belongs to. */
  algorithm: 'philox4x32-10';
  /** The 64-bit seed (the Philox key), as a decimal string. */
  seed: string;
  /** The stream position: how many 32-bit words have been consumed, as a decimal string. */
  counter: string;
}

const TWO_POW_32 = 2 ** 32;
const LARGEST_BELOW_ONE = 1 - 2 ** -24;

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

  /** Restores a generator from `getState()` (also accepts the older `{ seed, offset }` form). */
  static fromState(state: GeneratorState): Generator {
    const generator = new Generator(parseStateInteger(state, 'seed'));
    generator.setState(state);
    return generator;
  }

  /** The seed and the stream position. */
  getState(): GeneratorState {
    return { algorithm: 'philox4x32-10', seed: this.seedValue.toString(), counter: String(this.offset) };
  }

  /** Moves to a saved position (the seed must match). */
  setState(state: GeneratorState): void {
    const seed = parseStateInteger(state, 'seed');
    if (seed !== this.seedValue) {
      throw new Error(`Generator.setState: state is for seed ${seed}, this generator has seed ${this.seedValue}`);
    }
    const counter = parseStateInteger(state, 'counter');
    if (counter > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`Generator.setState: counter ${counter} is beyond 2^53 - 1`);
    this.offset = Number(counter);
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
    for (let i = 0; i < count; i++) {
      // (k + 0.5) / 2^24 rounds to 1 in float32 only for the top k; keep that one below 1.
      out[i] = ((this.nextWord() >>> 8) + 0.5) / 16777216;
      if (out[i] === 1) out[i] = LARGEST_BELOW_ONE;
    }
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

  /** `count` integers uniform in [low, high) (both int32; one word each). */
  randomIntegers(count: number, low: number, high: number): Int32Array {
    if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
      throw new Error(`Generator.randomIntegers: need integers low < high, got [${low}, ${high})`);
    }
    if (low < -(2 ** 31) || high > 2 ** 31) {
      throw new Error(`Generator.randomIntegers: [${low}, ${high}) does not fit in int32`);
    }
    const out = new Int32Array(checkCount(count));
    const span = high - low;
    for (let i = 0; i < count; i++) out[i] = low + Math.floor((this.nextWord() / TWO_POW_32) * span);
    return out;
  }
}

function parseStateInteger(state: GeneratorState, field: 'seed' | 'counter'): bigint {
  if (state === null || typeof state !== 'object') throw new Error('Generator state must be an object from getState()');
  const legacy = state as unknown as { offset?: unknown };
  const raw: unknown = field === 'counter' && state.counter === undefined ? legacy.offset : state[field];
  if (typeof raw !== 'string' || !/^[0-9]+$/.test(raw)) {
    throw new Error(`Generator state: '${field}' must be a decimal string of a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  if (state.algorithm !== undefined && state.algorithm !== 'philox4x32-10') {
    throw new Error(`Generator state: unknown algorithm ${JSON.stringify(state.algorithm)}`);
  }
  return BigInt(raw);
}

function checkCount(count: number): number {
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`Generator: count must be a non-negative integer, got ${count}`);
  return count;
}

/**
 * `count` integers uniform in [low, high) drawn from `generator` (a fresh, randomly seeded one
 * when omitted), e.g. training timesteps.
 */
export function randomIntegers(count: number, low: number, high: number, generator?: Generator): Int32Array {
  return (generator ?? randomlySeededGenerator()).randomIntegers(count, low, high);
}

/** A generator with a seed from the platform's random source (`crypto` when present). */
export function randomlySeededGenerator(): Generator {
  const words = new Uint32Array(2);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (array: Uint32Array) => Uint32Array } }).crypto;
  if (crypto?.getRandomValues) crypto.getRandomValues(words);
  else for (let i = 0; i < 2; i++) words[i] = Math.floor(Math.random() * TWO_POW_32);
  return new Generator((BigInt(words[1]) << 32n) | BigInt(words[0]));
}
