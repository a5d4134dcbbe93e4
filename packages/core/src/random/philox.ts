/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a
 * counter-based generator. Block `counter` under `key` is a pure function of both, so any element
 * of the stream can be computed without the ones before it.
 */

const MULTIPLIER_0 = 0xd2511f53;
const MULTIPLIER_1 = 0xcd9e8d57;
const WEYL_0 = 0x9e3779b9;
const WEYL_1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32 values. */
function mulHigh(a: number, b: number): number {
  const aHigh = a >>> 16;
  const aLow = a & 0xffff;
  const bHigh = b >>> 16;
  const bLow = b & 0xffff;
  const lowLow = aLow * bLow;
  const middle1 = aHigh * bLow;
  const middle2 = aLow * bHigh;
  const carry = ((lowLow >>> 16) + (middle1 & 0xffff) + (middle2 & 0xffff)) >>> 16;
  return (aHigh * bHigh + (middle1 >>> 16) + (middle2 >>> 16) + carry) >>> 0;
}

/**
 * One Philox4x32-10 block: four uint32 outputs for a 128-bit counter (four words, least
 * significant first) and a 64-bit key (two words).
 */
export function philox4x32(counter: readonly number[], key: readonly number[], out = new Uint32Array(4)): Uint32Array {
  let [c0, c1, c2, c3] = counter;
  let [k0, k1] = key;
  for (let round = 0; round < 10; round++) {
    const high0 = mulHigh(MULTIPLIER_0, c0);
    const low0 = Math.imul(MULTIPLIER_0, c0) >>> 0;
    const high1 = mulHigh(MULTIPLIER_1, c2);
    const low1 = Math.imul(MULTIPLIER_1, c2) >>> 0;
    c0 = (high1 ^ c1 ^ k0) >>> 0;
    c1 = low1;
    c2 = (high0 ^ c3 ^ k1) >>> 0;
    c3 = low0;
    k0 = (k0 + WEYL_0) >>> 0;
    k1 = (k1 + WEYL_1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}
