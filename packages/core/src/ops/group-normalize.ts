// The fused kernel's contract is @diffusion-ts/native's: its types are erased here and its name
// is built into core's bundle, so core runs without that optional package.
import { GROUP_NORM_KERNEL, type GroupNormAttributes, type GroupNormInputs } from '@diffusion-ts/native/fused-kernels';
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
 * Built for speed on every backend. The sums over the pixels are matMuls with a row of ones (a
 * tfjs reduction over a non-innermost axis transposes the whole tensor first); the statistics are
 * two-pass (mean, then the mean of the centred squares); the affine part is folded into one
 * per-channel scale; and the gradient is the closed form rather than tfjs' taped chain of ops:
 * with x̂ the normalised input and g = dy·γ,
 * dx = (g - mean_group(g) - x̂·mean_group(g·x̂)) / σ,  dγ = Σ dy·x̂,  dβ = Σ dy.
 * Where the backend registers `GROUP_NORM_KERNEL` the forward pass is that one kernel.
 */
export function groupNormalize(x: tf.Tensor4D, groups: number, options: GroupNormalizeOptions = {}): tf.Tensor4D {
  if (x.rank !== 4) throw new Error(`groupNormalize: expected an NHWC tensor of rank 4, got rank ${x.rank}`);
  const [batch, height, width, channels] = x.shape;
  if (!Number.isInteger(groups) || groups < 1 || channels % groups !== 0) {
    throw new Error(`groupNormalize: ${channels} channels cannot be split into ${groups} groups`);
  }
  const epsilon = options.epsilon ?? 1e-5;
  if (!(epsilon >= 0)) throw new Error(`groupNormalize: epsilon must be >= 0, got ${epsilon}`);
  for (const [name, parameter] of [
    ['weight', options.weight],
    ['bias', options.bias],
  ] as const) {
    if (parameter !== undefined && (parameter.rank !== 1 || parameter.shape[0] !== channels)) {
      throw new Error(`groupNormalize: ${name} must have shape [${channels}], got [${parameter.shape.join(', ')}]`);
    }
  }
  const pixels = height * width;
  const channelsPerGroup = channels / groups;
  const perGroup = pixels * channelsPerGroup;

  /** Per-image, per-channel sums over the pixels of `t` [B, HW, C] as a matMul with `ones` [B, 1, HW]: [B, 1, C]. */
  const pixelSums = (ones: tf.Tensor, t: tf.Tensor): tf.Tensor => tf.matMul(ones as tf.Tensor3D, t as tf.Tensor3D);
  /** Per-channel sums [B, 1, C] → each group's mean, repeated for its channels: [B, 1, C]. */
  const groupMean = (sums: tf.Tensor): tf.Tensor => {
    const perGroupSum = tf.sum(tf.reshape(sums, [batch, groups, channelsPerGroup]), 2, true);
    return tf.reshape(tf.broadcastTo(tf.div(perGroupSum, perGroup), [batch, groups, channelsPerGroup]), [batch, 1, channels]);
  };

  const fused = x.dtype === 'float32' && tf.getKernel(GROUP_NORM_KERNEL, tf.getBackend()) !== undefined;
  const normalize = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, gamma, beta] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const flat = tf.reshape(input, [batch, pixels, channels]);
    let value: tf.Tensor;
    let centered: tf.Tensor;
    let inverseStd: tf.Tensor;
    if (fused) {
      const inputs: GroupNormInputs<tf.Tensor> = { x: flat, gamma, beta };
      const attributes: GroupNormAttributes = { groups, epsilon };
      [value, centered, inverseStd] = tf
        .engine()
        .runKernel<tf.Tensor[]>(GROUP_NORM_KERNEL, inputs as unknown as tf.NamedTensorMap, attributes as unknown as tf.NamedAttrMap) as [
        tf.Tensor,
        tf.Tensor,
        tf.Tensor,
      ];
    } else {
      const ones = tf.ones([batch, 1, pixels]);
      centered = tf.sub(flat, groupMean(pixelSums(ones, flat)));
      inverseStd = tf.rsqrt(tf.add(groupMean(pixelSums(ones, tf.square(centered))), epsilon));
      value = tf.add(tf.mul(centered, tf.mul(inverseStd, gamma)), beta);
    }
    save([centered, inverseStd, gamma]);
    return {
      value: tf.reshape(value, input.shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedCentered, inverse, scale] = saved;
        const upstream = tf.reshape(dy, [batch, pixels, channels]);
        const normalized = tf.mul(savedCentered, inverse);
        const ones = tf.ones([batch, 1, pixels]);
        const upstreamSums = pixelSums(ones, upstream); // [B, 1, C]: Σ dy per image
        const projectionSums = pixelSums(ones, tf.mul(upstream, normalized)); // [B, 1, C]: Σ dy·x̂ per image
        const meanGradient = groupMean(tf.mul(upstreamSums, scale));
        const meanProjection = groupMean(tf.mul(projectionSums, scale));
        const centeredGradient = tf.sub(tf.sub(tf.mul(upstream, scale), meanGradient), tf.mul(normalized, meanProjection));
        return [
          tf.reshape(tf.mul(centeredGradient, inverse), input.shape),
          tf.reshape(tf.sum(projectionSums, [0, 1]), [channels]),
          tf.reshape(tf.sum(upstreamSums, [0, 1]), [channels]),
        ];
      },
    };
  });
  return tf.tidy(() => normalize(x, options.weight ?? tf.ones([channels]), options.bias ?? tf.zeros([channels])) as tf.Tensor4D);
}
