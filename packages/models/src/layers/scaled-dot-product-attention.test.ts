import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Attention } from '../blocks/attention.js';
import { ParameterStore } from '../parameters/parameter-store.js';
import {
  attentionScoreBudget,
  DEFAULT_ATTENTION_SCORE_BUDGET,
  scaledDotProductAttention,
  setAttentionScoreBudget,
} from './scaled-dot-product-attention.js';

function sine(shape: number[], frequency: number, phase: number): tf.Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: count }, (_, k) => Math.sin(frequency * k + phase)),
    shape,
  );
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).toBe(y.length);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  return worst;
}

describe.each(testBackendNames())('chunked attention on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  afterEach(() => setAttentionScoreBudget(null));

  // Exact on cpu; wasm's GEMM may block a shorter M differently, so allow float32 rounding there.
  const tolerance = backend === 'cpu' ? 0 : 2e-6;

  it.each([
    { heads: 1, budget: 40, what: 'one head, 40-element chunks (rows do not divide the queries)' },
    { heads: 4, budget: 4 * 9 * 5, what: 'four heads, 5 rows per chunk' },
    { heads: 2, budget: 1, what: 'a budget below one row: one query at a time' },
  ])('matches the unchunked path: $what', ({ heads, budget }) => {
    const [query, key, value] = [sine([2, 23, 8], 0.37, 0.1), sine([2, 9, 8], 0.53, 0.7), sine([2, 9, 8], 0.29, 1.3)] as tf.Tensor3D[];
    const whole = scaledDotProductAttention(query, key, value, { heads, maxScoreElements: Infinity });
    const before = tf.memory().numTensors;
    const chunked = scaledDotProductAttention(query, key, value, { heads, maxScoreElements: budget });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(chunked.shape).toEqual([2, 23, 8]);
    expect(maxDifference(chunked, whole)).toBeLessThanOrEqual(tolerance);
    tf.dispose([query, key, value, whole, chunked]);
  });

  it('slices a causal and padding bias with the queries', () => {
    const heads = 2;
    const [query, key, value] = [sine([2, 7, 6], 0.41, 0.2), sine([2, 7, 6], 0.23, 0.9), sine([2, 7, 6], 0.31, 0.4)] as tf.Tensor3D[];
    const causal = tf.tensor2d(
      Array.from({ length: 49 }, (_, i) => (i % 7 > Math.floor(i / 7) ? -1e9 : 0)),
      [7, 7],
    );
    const padding = tf.tensor4d([0, 0, 0, 0, 0, -1e9, -1e9, 0, 0, 0, 0, 0, 0, -1e9], [2, 1, 1, 7]);
    for (const bias of [causal, padding]) {
      const whole = scaledDotProductAttention(query, key, value, { heads, bias, maxScoreElements: Infinity });
      const chunked = scaledDotProductAttention(query, key, value, { heads, bias, maxScoreElements: heads * 7 * 3 });
      expect(maxDifference(chunked, whole)).toBeLessThanOrEqual(tolerance);
      tf.dispose([whole, chunked]);
    }
    tf.dispose([query, key, value, causal, padding]);
  });

  it('chunks the Attention block automatically above the budget (self- and cross-attention)', () => {
    const store = new ParameterStore(3);
    const attention = new Attention(store.scope('attn'), { queryDim: 8, crossAttentionDim: 6, heads: 2, dimHead: 4, bias: false });
    const x = sine([1, 6, 5, 8], 0.19, 0.3) as tf.Tensor4D;
    const context = sine([1, 4, 6], 0.61, 0.5) as tf.Tensor3D;
    const whole = attention.apply(x, context);
    setAttentionScoreBudget(2 * 4 * 7);
    expect(attentionScoreBudget()).toBe(56);
    const chunked = attention.apply(x, context);
    expect(maxDifference(chunked, whole)).toBeLessThanOrEqual(tolerance);
    setAttentionScoreBudget(null);
    expect(attentionScoreBudget()).toBe(DEFAULT_ATTENTION_SCORE_BUDGET);
    tf.dispose([x, context, whole, chunked]);
    store.dispose();
  });

  it('refuses a budget below one element', () => {
    expect(() => setAttentionScoreBudget(0)).toThrow(/>= 1 element/);
    expect(() => setAttentionScoreBudget(Number.NaN)).toThrow(/>= 1 element/);
  });
});
