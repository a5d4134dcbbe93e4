import * as tf from '@tensorflow/tfjs-core';

/** Options of `groupNormalize`. */
export interface GroupNormalizeOptions {
  /** Per-channel scale γ [C] (PyTorch `GroupNorm.weight`); none means 1. */
  weight?: tf.Tensor1D;
  /** Per-channel shift β [C] (PyTorch `GroupNorm.bias`); none means 0. */
  bias?: tf.Tensor1D;
  /** Added to the variance before the square root (default 1e-5, as PyTorch). */
  epsilon?: number;
}

/**
 * Group normalisation of an NHWC tensor, as PyTorch's `F.group_norm`: the channels are split into
 * `groups` consecutive groups, each group of each image is shifted to mean 0 and scaled to
 * variance 1 (biased variance, plus `epsilon`), then each channel is scaled by `weight` and
 * shifted by `bias`.
 *
 * Built for speed on every backend, with tfjs' own gradients: the sums over the pixels are
 * matMuls with a row of ones (a tfjs reduction over a non-innermost axis transposes the whole
 * tensor first), the statistics are two-pass (mean, then the mean of the centred squares), and
 * the affine part is folded into one per-channel scale, so the full-size tensor is touched by
 * four elementwise ops.
 */
export function groupNormalize(x: tf.Tensor4D, groups: number, options: GroupNormalizeOptions = {}): tf.Tensor4D {
  if (x.rank !== 4) throw new Error(`groupNormalize: expected an NHWC tensor of rank 4, got rank ${x.rank}`);
  const [batch, height, width, channels] = x.shape;
  if (!Number.isInteger(groups) || groups < 1 || channels % groups !== 0) {
    throw new Error(`groupNormalize: ${channels} channels cannot be split into ${groups} groups`);
  }
  const epsilon = options.epsilon ?? 1e-5;
  if (!(epsilon >= 0)) throw new Error(`groupNormalize: epsilon must be >= 0, got ${epsilon}`);
  for (const [name, parameter] of [['weight', options.weight], ['bias', options.bias]] as const) {
    if (parameter !== undefined && (parameter.rank !== 1 || parameter.shape[0] !== channels)) {
      throw new Error(`groupNormalize: ${name} must have shape [${channels}], got [${parameter.shape.join(', ')}]`);
    }
  }
  const pixels = height * width;
  const channelsPerGroup = channels / groups;
  const perGroup = pixels * channelsPerGroup;
  return tf.tidy(() => {
    const flat = tf.reshape(x, [batch, pixels, channels]);
    const ones = tf.ones([batch, 1, pixels]);
    /** Mean over each group of `t` [B, HW, C], one value per channel: [B, 1, C]. */
    const groupMean = (t: tf.Tensor): tf.Tensor => {
      const perChannel = tf.reshape(tf.matMul(ones as tf.Tensor3D, t as tf.Tensor3D), [batch, groups, channelsPerGroup]);
      const mean = tf.div(tf.sum(perChannel, 2, true), perGroup);
      return tf.reshape(tf.broadcastTo(mean, [batch, groups, channelsPerGroup]), [batch, 1, channels]);
    };
    const centered = tf.sub(flat, groupMean(flat));
    let scale = tf.rsqrt(tf.add(groupMean(tf.square(centered)), epsilon));
    if (options.weight) scale = tf.mul(scale, options.weight);
    let normalized = tf.mul(centered, scale);
    if (options.bias) normalized = tf.add(normalized, options.bias);
    return tf.reshape(normalized, x.shape);
  });
}
