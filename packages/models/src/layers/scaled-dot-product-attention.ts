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
}

/**
 * Multi-head scaled dot-product attention on projected tokens: `query` [B, Sq, heads * d],
 * `key` and `value` [B, Sk, heads * d], returns [B, Sq, heads * d]. Per head,
 * `softmax(q k^T / sqrt(d) + bias) v`, the order PyTorch evaluates it in (Diffusers'
 * `AttnProcessor`, transformers' eager attention).
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
  const dimHead = width / heads;
  return tf.tidy(() => {
    const q = splitHeads(query, heads);
    const k = splitHeads(key, heads);
    const v = splitHeads(value, heads);
    let scores: tf.Tensor3D = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dimHead));
    if (bias !== undefined) {
      const keyLength = key.shape[1];
      const perHead = tf.add(tf.reshape(scores, [batch, heads, queryLength, keyLength]), bias);
      scores = tf.reshape(perHead, [batch * heads, queryLength, keyLength]);
    }
    const probabilities = tf.softmax(scores);
    return mergeHeads(tf.matMul(probabilities, v), batch, heads);
  });
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
