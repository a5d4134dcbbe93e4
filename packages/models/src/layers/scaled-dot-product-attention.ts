import * as tf from '@tensorflow/tfjs-core';

/** Options of `scaledDotProductAttention`. */
export interface ScaledDotProductAttentionOptions {
  /** Number of heads the projections' last axis splits into. */
  heads: number;
  /**
   * An additive bias on the scores, broadcast to [B, heads, Sq, Sk]: `0` where a query may attend
   * to a key, a large negative value where it may not (causal and padding masks).
   */
  bias?: tf.Tensor;
  /**
   * The most score elements (B * heads * Sq * Sk) held at once; above it the queries are taken in
   * chunks (default `attentionScoreBudget()`). The results are the same either way.
   */
  maxScoreElements?: number;
}

/**
 * 2^24 score elements (64 MiB of float32, times about three for scores, probabilities and their
 * gradient-free temporaries): SD 1.x's 4,096-token self-attention at 512x512 (batch 2, 8 heads,
 * 268M elements, 1 GiB) runs in 16 chunks of 512 queries.
 */
export const DEFAULT_ATTENTION_SCORE_BUDGET = 2 ** 24;

let scoreBudget = DEFAULT_ATTENTION_SCORE_BUDGET;

/** The score budget `scaledDotProductAttention` uses when a call names none. */
export function attentionScoreBudget(): number {
  return scoreBudget;
}

/**
 * Sets the default score budget of every attention layer (Diffusers' `enable_attention_slicing`,
 * chosen by size rather than by head count): a positive number of elements, `Infinity` to never
 * chunk, or `null` for the default.
 */
export function setAttentionScoreBudget(elements: number | null): void {
  if (elements !== null && !(elements >= 1)) throw new RangeError(`attention score budget must be >= 1 element, got ${String(elements)}`);
  scoreBudget = elements ?? DEFAULT_ATTENTION_SCORE_BUDGET;
}

/**
 * Multi-head scaled dot-product attention on projected tokens: `query` [B, Sq, heads * d],
 * `key` and `value` [B, Sk, heads * d], returns [B, Sq, heads * d]. Per head,
 * `softmax(q k^T / sqrt(d) + bias) v`, the order PyTorch evaluates it in (Diffusers'
 * `AttnProcessor`, transformers' eager attention).
 *
 * When the full score tensor would exceed `maxScoreElements`, each batch item's queries are taken
 * a chunk of rows at a time (all heads together), each chunk in its own `tidy`: every output row is
 * the same dot products and the same softmax as unchunked, so the results do not change, and only
 * one chunk's scores are alive at once.
 */
export function scaledDotProductAttention(
  query: tf.Tensor3D,
  key: tf.Tensor3D,
  value: tf.Tensor3D,
  options: ScaledDotProductAttentionOptions,
): tf.Tensor3D {
  const { heads, bias } = options;
  const [batch, queryLength, width] = query.shape;
  if (width % heads !== 0) throw new Error(`attention: width ${width} is not divisible by ${heads} heads`);
  const keyLength = key.shape[1];
  const budget = options.maxScoreElements ?? scoreBudget;
  const scoresPerQuery = heads * keyLength;
  if (batch * queryLength * scoresPerQuery <= budget) {
    return tf.tidy(() => attendHeads(query, splitHeads(key, heads), splitHeads(value, heads), heads, bias));
  }
  const rows = Math.max(1, Math.floor(budget / scoresPerQuery));
  return tf.tidy(() => {
    const bias4 = bias === undefined ? undefined : tf.reshape(bias, [...new Array<number>(4 - bias.rank).fill(1), ...bias.shape]);
    const items: tf.Tensor3D[] = [];
    for (let b = 0; b < batch; b++) {
      const itemKey = splitHeads(tf.slice(key, [b, 0, 0], [1, -1, -1]), heads);
      const itemValue = splitHeads(tf.slice(value, [b, 0, 0], [1, -1, -1]), heads);
      const chunks: tf.Tensor3D[] = [];
      for (let start = 0; start < queryLength; start += rows) {
        const size = Math.min(rows, queryLength - start);
        chunks.push(
          tf.tidy(() => {
            const chunkQuery = tf.slice(query, [b, start, 0], [1, size, -1]);
            const chunkBias = bias4 === undefined ? undefined : sliceBias(bias4, b, start, size);
            return attendHeads(chunkQuery, itemKey, itemValue, heads, chunkBias);
          }),
        );
      }
      items.push(chunks.length === 1 ? chunks[0] : tf.concat(chunks, 1));
    }
    return items.length === 1 ? items[0] : tf.concat(items, 0);
  });
}

/** The part of a [B|1, heads|1, Sq|1, Sk] bias that batch item `b`, queries [start, start + size) see. */
function sliceBias(bias: tf.Tensor, b: number, start: number, size: number): tf.Tensor {
  const [batch, , queries] = bias.shape;
  return tf.slice(bias, [batch === 1 ? 0 : b, 0, queries === 1 ? 0 : start, 0], [1, -1, queries === 1 ? 1 : size, -1]);
}

/** Attention of `query` [B, Sq, heads * d] over keys and values already split into heads [B * heads, Sk, d] (call inside a tidy). */
function attendHeads(query: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number, bias: tf.Tensor | undefined): tf.Tensor3D {
  const [batch, queryLength, width] = query.shape;
  const keyLength = k.shape[1];
  const q = splitHeads(query, heads);
  let scores: tf.Tensor3D = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(width / heads));
  if (bias !== undefined) {
    const perHead = tf.add(tf.reshape(scores, [batch, heads, queryLength, keyLength]), bias);
    scores = tf.reshape(perHead, [batch * heads, queryLength, keyLength]);
  }
  const probabilities = tf.softmax(scores);
  return mergeHeads(tf.matMul(probabilities, v), batch, heads);
}

/** [B, S, heads * d] -> [B * heads, S, d]. */
function splitHeads(x: tf.Tensor3D, heads: number): tf.Tensor3D {
  if (heads === 1) return x;
  const [batch, length, width] = x.shape;
  const dimHead = width / heads;
  const split = tf.transpose(tf.reshape(x, [batch, length, heads, dimHead]), [0, 2, 1, 3]);
  return tf.reshape(split, [batch * heads, length, dimHead]);
}

/** [B * heads, S, d] -> [B, S, heads * d]. */
function mergeHeads(x: tf.Tensor3D, batch: number, heads: number): tf.Tensor3D {
  if (heads === 1) return x;
  const [, length, dimHead] = x.shape;
  const merged = tf.transpose(tf.reshape(x, [batch, heads, length, dimHead]), [0, 2, 1, 3]);
  return tf.reshape(merged, [batch, length, heads * dimHead]);
}
