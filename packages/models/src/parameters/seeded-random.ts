/**
 * A small seeded random source for weight initialisation: SplitMix64-seeded xoshiro128**,
 * computed on the CPU so that the same seed gives the same weights on every backend.
 */
export class SeededRandom {
  private state = new Uint32Array(4);

  constructor(seed: number) {
    let x = BigInt.asUintN(64, BigInt(Math.trunc(seed)));
    for (let i = 0; i < 4; i += 1) {
      // SplitMix64 step.
      x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
      let z = x;
      z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
      z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
      z = z ^ (z >> 31n);
      this.state[i] = Number(z & 0xffffffffn);
    }
    if (this.state.every((word) => word === 0)) this.state[0] = 1;
  }

  /** The next 32 random bits. */
  nextUint32(): number {
    const s = this.state;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform number in [0, 1) with 24 random bits (exact in float32). */
  nextFloat(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /** `count` uniform numbers in [low, high). */
  uniform(count: number, low: number, high: number): Float32Array {
    const values = new Float32Array(count);
    const width = high - low;
    for (let i = 0; i < count; i += 1) values[i] = low + width * this.nextFloat();
    return values;
  }

  /** `count` standard normal numbers (Box-Muller). */
  normal(count: number, mean = 0, std = 1): Float32Array {
    const values = new Float32Array(count);
    for (let i = 0; i < count; i += 2) {
      const u1 = (this.nextFloat() * 16777215 + 1) / 16777216;
      const u2 = this.nextFloat();
      const radius = Math.sqrt(-2 * Math.log(u1));
      values[i] = mean + std * radius * Math.cos(2 * Math.PI * u2);
      if (i + 1 < count) values[i + 1] = mean + std * radius * Math.sin(2 * Math.PI * u2);
    }
    return values;
  }
}

function rotl(value: number, shift: number): number {
  return ((value << shift) | (value >>> (32 - shift))) >>> 0;
}
