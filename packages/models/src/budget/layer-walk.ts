/**
 * What a walk over a model's layers reports (`LayerVisitor`), and the walk of the pieces the UNets
 * and the VAE share (resnets, spatial self-attention, group norms), which also checks what the
 * blocks would otherwise refuse late with plain errors: GroupNorm widths divisible by the group
 * count, attention widths divisible by the head width.
 */
import { ConfigError } from '@diffusion-ts/core';
import type { BlockSettings } from '../blocks/block-types.js';

/** What a walk reports, per sample; `rows` is the number of tokens or pixels a layer runs over. */
export interface LayerVisitor {
  /** A convolution with bias producing `rows` pixels of `outChannels`. */
  conv(rows: number, inChannels: number, outChannels: number, kernel: number): void;
  /** A linear layer over `rows` rows. */
  linear(rows: number, inFeatures: number, outFeatures: number, bias: boolean): void;
  /** A group or layer norm over `rows` x `channels` with a scale and a shift. */
  norm(rows: number, channels: number): void;
  /** A lookup table of `count` rows. */
  embedding(count: number, features: number): void;
  /** `softmax(q kᵀ) v` for `queries` x `keys` tokens of total width `inner` in `heads` heads. */
  attention(queries: number, keys: number, inner: number, heads: number): void;
  /**
   * One resnet, attention or transformer (a `tf.tidy` scope in the model): its intermediates are
   * freed when it ends; its output, `rows` x `channels`, is kept until the forward pass ends.
   */
  unit(rows: number, channels: number, body: () => void): void;
}

/** Walks the shared pieces for `visitor`; `context` (the class name) starts every error. */
export class LayerWalk {
  constructor(
    protected readonly visitor: LayerVisitor,
    protected readonly context: string,
  ) {}

  protected groupNorm(rows: number, channels: number, groups: number, key: string, where: string): void {
    if (channels % groups !== 0) {
      throw new ConfigError(
        `${this.context}: config key '${key}' = ${groups} must divide every GroupNorm width, but ${where} has ${channels} channels`,
        key,
      );
    }
    this.visitor.norm(rows, channels);
  }

  protected resnet(rows: number, inChannels: number, outChannels: number, settings: BlockSettings, where: string): void {
    const v = this.visitor;
    v.unit(rows, outChannels, () => {
      this.groupNorm(rows, inChannels, settings.resnetGroups, 'norm_num_groups', `${where}.norm1`);
      v.conv(rows, inChannels, outChannels, 3);
      if (settings.tembChannels !== null)
        v.linear(1, settings.tembChannels, settings.resnetTimeScaleShift === 'scale_shift' ? 2 * outChannels : outChannels, true);
      this.groupNorm(rows, outChannels, settings.resnetGroups, 'norm_num_groups', `${where}.norm2`);
      v.conv(rows, outChannels, outChannels, 3);
      if (inChannels !== outChannels) v.conv(rows, inChannels, outChannels, 1);
    });
  }

  protected selfAttention(
    rows: number,
    channels: number,
    settings: BlockSettings,
    groups: number | null,
    groupsKey: string,
    where: string,
  ): void {
    const headDim = settings.attentionHeadDim;
    if (channels % headDim !== 0) {
      throw new ConfigError(
        `${this.context}: config key 'attention_head_dim' = ${headDim} must divide the ${channels} channels of ${where}`,
        'attention_head_dim',
      );
    }
    const v = this.visitor;
    v.unit(rows, channels, () => {
      if (groups !== null) this.groupNorm(rows, channels, groups, groupsKey, `${where}.group_norm`);
      for (let i = 0; i < 4; i += 1) v.linear(rows, channels, channels, true);
      v.attention(rows, rows, channels, channels / headDim);
    });
  }
}
