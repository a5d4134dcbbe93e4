import type * as tf from '@tensorflow/tfjs-core';
import { groupNormalize } from '@diffusion-ts/core';
import type { ParameterScope } from '../parameters/parameter-store.js';

/**
 * Group normalisation on NHWC tensors (PyTorch `nn.GroupNorm` with `affine=True`), in float32:
 * the channels are split into `groups` groups, and each group is normalised with its mean and
 * biased variance over H, W and its channels, then scaled and shifted per channel.
 */
export class GroupNorm {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    scope: ParameterScope,
    readonly groups: number,
    readonly channels: number,
    readonly eps = 1e-5,
  ) {
    if (!Number.isInteger(groups) || groups < 1 || channels % groups !== 0) {
      throw new Error(`GroupNorm(${scope.prefix}): ${channels} channels cannot be split into ${groups} groups`);
    }
    this.weight = scope.parameter('weight', [channels], 'plain', { kind: 'ones' });
    this.bias = scope.parameter('bias', [channels], 'plain', { kind: 'zeros' });
  }

  /** Normalises `x` [B, H, W, C] (core's `groupNormalize`: matMul reductions, affine folded in). */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return groupNormalize(x, this.groups, {
      weight: this.weight as tf.Tensor as tf.Tensor1D,
      bias: this.bias as tf.Tensor as tf.Tensor1D,
      epsilon: this.eps,
    });
  }
}
