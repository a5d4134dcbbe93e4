import { describe, expect, it } from 'vitest';
import { featureStatistics, frechetDistance } from './frechet-distance.js';
import { symmetricEigen } from './symmetric-eigen.js';

function pseudoRandomRows(count: number, dimension: number, seed: number, scale = 1, shift = 0): Float64Array {
  const rows = new Float64Array(count * dimension);
  let state = seed;
  for (let i = 0; i < rows.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    rows[i] = ((state / 2 ** 32) * 2 - 1) * scale + shift;
  }
  return rows;
}

describe('symmetricEigen', () => {
  it('reconstructs the matrix', () => {
    const n = 6;
    const base = pseudoRandomRows(n, n, 3);
    const matrix = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) matrix[i * n + j] = base[i * n + j] + base[j * n + i];
    const { values, vectors } = symmetricEigen(matrix, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let k = 0; k < n; k++) sum += vectors[i * n + k] * values[k] * vectors[j * n + k];
        expect(sum).toBeCloseTo(matrix[i * n + j], 10);
      }
    }
  });
});

describe('frechetDistance', () => {
  it('is zero for identical statistics', () => {
    const stats = featureStatistics(pseudoRandomRows(500, 8, 1), 8);
    expect(frechetDistance(stats, stats)).toBeLessThan(1e-9);
  });

  it('matches the closed form for diagonal Gaussians', () => {
    // For diagonal covariances the distance is sum (m1-m2)^2 + (s1 - s2)^2 with s the std devs.
    const dimension = 3;
    const make = (mean: number[], variance: number[]) => ({
      mean: Float64Array.from(mean),
      covariance: Float64Array.from([variance[0], 0, 0, 0, variance[1], 0, 0, 0, variance[2]]),
      dimension,
      count: 100,
    });
    const a = make([0, 1, 2], [1, 4, 9]);
    const b = make([1, 1, 0], [4, 1, 9]);
    const expected = 1 + 0 + 4 + (1 - 2) ** 2 + (2 - 1) ** 2 + 0;
    expect(frechetDistance(a, b)).toBeCloseTo(expected, 9);
  });

  it('grows with a mean shift and is symmetric', () => {
    const a = featureStatistics(pseudoRandomRows(400, 5, 7), 5);
    const b = featureStatistics(pseudoRandomRows(400, 5, 9, 1, 0.5), 5);
    const ab = frechetDistance(a, b);
    expect(ab).toBeGreaterThan(1);
    expect(frechetDistance(b, a)).toBeCloseTo(ab, 8);
  });

  it('rejects mismatched dimensions and non-finite features', () => {
    const a = featureStatistics(pseudoRandomRows(10, 2, 1), 2);
    const b = featureStatistics(pseudoRandomRows(10, 3, 1), 3);
    expect(() => frechetDistance(a, b)).toThrow(/dimensions differ/);
    expect(() => featureStatistics([0, Number.NaN, 1, 2], 2)).toThrow(/NaN/);
  });
});
