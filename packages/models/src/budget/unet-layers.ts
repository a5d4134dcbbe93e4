/**
 * The layers of a UNet, walked from its resolved spec without building anything: one place that
 * lists what `UNetBody` builds (convolutions, linear layers, norms, tables, attention), shared by
 * the FLOP count and the parameter and activation estimate. The walk also checks the structure
 * the blocks would otherwise refuse late with plain errors: GroupNorm widths divisible by the
 * group count, attention widths divisible by the heads.
 */
import { ConfigError } from '@diffusion-ts/core';
import type { DownBlockType, MidBlockType, UpBlockType } from '../block-registry.js';
import type { BlockSettings } from '../blocks/block-types.js';
import type { UNetBodySpec } from '../unet-body.js';
import { LayerWalk, type LayerVisitor } from './layer-walk.js';

/** How the layers of each block type mix pixels after their resnets. */
const MIXERS: Record<DownBlockType | UpBlockType | MidBlockType, 'none' | 'self-attention' | 'transformer'> = {
  DownBlock2D: 'none',
  AttnDownBlock2D: 'self-attention',
  CrossAttnDownBlock2D: 'transformer',
  UpBlock2D: 'none',
  AttnUpBlock2D: 'self-attention',
  CrossAttnUpBlock2D: 'transformer',
  UNetMidBlock2D: 'self-attention',
  UNetMidBlock2DCrossAttn: 'transformer',
};

/** Walks the layers of `spec` for one sample of `height` x `width` with a context of `sequenceLength` tokens. */
export function walkUNet(
  spec: UNetBodySpec,
  visitor: LayerVisitor,
  size: { height: number; width: number; sequenceLength: number },
  context: string,
): void {
  new UNetWalk(visitor, size.sequenceLength, context).body(spec, size.height, size.width);
}

class UNetWalk extends LayerWalk {
  constructor(
    visitor: LayerVisitor,
    private readonly sequenceLength: number,
    context: string,
  ) {
    super(visitor, context);
  }

  private transformer(rows: number, channels: number, settings: BlockSettings, depth: number, where: string): void {
    const heads = settings.numAttentionHeads;
    if (channels % heads !== 0) {
      throw new ConfigError(
        `${this.context}: the ${heads} attention heads (config key 'num_attention_heads', else 'attention_head_dim') must divide the ${channels} channels of ${where}`,
        'num_attention_heads',
      );
    }
    const v = this.visitor;
    const inner = channels; // heads x (channels / heads)
    const cross = settings.crossAttentionDim;
    const sequence = this.sequenceLength;
    v.unit(rows, channels, () => {
      this.groupNorm(rows, channels, settings.resnetGroups, 'norm_num_groups', `${where}.norm`);
      v.linear(rows, channels, inner, true); // proj_in (1x1 conv or linear: the same count)
      for (let i = 0; i < depth; i += 1) {
        const selfContext = settings.onlyCrossAttention && cross !== null;
        const keys = selfContext ? sequence : rows;
        const keyWidth = selfContext ? cross : inner;
        this.normedAttention(rows, keys, keyWidth, inner, heads);
        if (cross !== null) this.normedAttention(rows, sequence, cross, inner, heads);
        v.norm(rows, inner);
        v.linear(rows, inner, 8 * inner, true); // GEGLU projection
        v.linear(rows, 4 * inner, inner, true);
      }
      v.linear(rows, inner, channels, true); // proj_out
    });
  }

  /** A transformer block's `x += attn(norm(x), context)`: q, k and v without bias, the output with one. */
  private normedAttention(rows: number, keys: number, keyWidth: number, inner: number, heads: number): void {
    const v = this.visitor;
    v.norm(rows, inner);
    v.linear(rows, inner, inner, false);
    v.linear(keys, keyWidth, inner, false);
    v.linear(keys, keyWidth, inner, false);
    v.attention(rows, keys, inner, heads);
    v.linear(rows, inner, inner, true);
  }

  private mixer(
    type: DownBlockType | UpBlockType | MidBlockType,
    rows: number,
    channels: number,
    settings: BlockSettings,
    layer: number,
    groups: number | null,
    where: string,
  ): void {
    const kind = MIXERS[type];
    const groupsKey = groups === settings.resnetGroups ? 'norm_num_groups' : 'attn_norm_num_groups';
    if (kind === 'self-attention') this.selfAttention(rows, channels, settings, groups, groupsKey, where);
    else if (kind === 'transformer') this.transformer(rows, channels, settings, settings.transformerLayersPerBlock[layer] ?? 1, where);
  }

  private timestepEmbedding(inChannels: number, timeEmbedDim: number): void {
    this.visitor.linear(1, inChannels, timeEmbedDim, true);
    this.visitor.linear(1, timeEmbedDim, timeEmbedDim, true);
  }

  body(spec: UNetBodySpec, height: number, width: number): void {
    const v = this.visitor;
    const first = spec.blockOutChannels[0];
    let timeInput = first;
    if (spec.timeProjection.kind === 'positional') timeInput = spec.timeProjection.options.numChannels;
    else v.embedding(spec.timeProjection.numTrainTimesteps, first);
    this.timestepEmbedding(timeInput, spec.timeEmbedDim);
    if (spec.classEmbedding?.kind === 'table') v.embedding(spec.classEmbedding.count, spec.timeEmbedDim);
    else if (spec.classEmbedding?.kind === 'timestep') this.timestepEmbedding(timeInput, spec.timeEmbedDim);
    let h = height;
    let w = width;
    v.unit(h * w, first, () => v.conv(h * w, spec.inChannels, first, spec.convInKernel));
    spec.down.forEach(({ type, spec: block }, index) => {
      for (let i = 0; i < block.numLayers; i += 1) {
        const where = `down_blocks.${index}`;
        this.resnet(h * w, i === 0 ? block.inChannels : block.outChannels, block.outChannels, block, `${where}.resnets.${i}`);
        this.mixer(type, h * w, block.outChannels, block, i, block.resnetGroups, `${where}.attentions.${i}`);
      }
      if (block.addDownsample) {
        h /= 2;
        w /= 2;
        v.unit(h * w, block.outChannels, () => v.conv(h * w, block.outChannels, block.outChannels, 3));
      }
    });
    if (spec.mid) {
      const { type, spec: block } = spec.mid;
      this.resnet(h * w, block.inChannels, block.inChannels, block, 'mid_block.resnets.0');
      for (let i = 0; i < block.numLayers; i += 1) {
        if (type === 'UNetMidBlock2DCrossAttn' || block.addAttention) {
          const groups = type === 'UNetMidBlock2D' ? block.attnGroups : block.resnetGroups;
          this.mixer(type, h * w, block.inChannels, block, i, groups, `mid_block.attentions.${i}`);
        }
        this.resnet(h * w, block.inChannels, block.inChannels, block, `mid_block.resnets.${i + 1}`);
      }
    }
    spec.up.forEach(({ type, spec: block }, index) => {
      for (let i = 0; i < block.numLayers; i += 1) {
        const skip = i === block.numLayers - 1 ? block.inChannels : block.outChannels;
        const inChannels = (i === 0 ? block.prevOutputChannel : block.outChannels) + skip;
        const where = `up_blocks.${index}`;
        // The concatenated input of each resnet lives until the up block ends.
        v.unit(h * w, inChannels, () => undefined);
        this.resnet(h * w, inChannels, block.outChannels, block, `${where}.resnets.${i}`);
        this.mixer(type, h * w, block.outChannels, block, i, block.resnetGroups, `${where}.attentions.${i}`);
      }
      if (block.addUpsample) {
        h *= 2;
        w *= 2;
        v.unit(h * w, block.outChannels, () => v.conv(h * w, block.outChannels, block.outChannels, 3));
      }
    });
    v.unit(h * w, spec.outChannels, () => {
      if (spec.normNumGroupsOut !== null) this.groupNorm(h * w, first, spec.normNumGroupsOut, 'norm_num_groups', 'conv_norm_out');
      v.conv(h * w, first, spec.outChannels, spec.convOutKernel);
    });
  }
}
