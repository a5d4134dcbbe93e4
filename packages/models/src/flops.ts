import { parseConfig, type ConfigJson } from '@diffusion-ts/core';
import type { BlockSettings } from './blocks/block-types.js';
import {
  UNET_2D_CONDITION_DEFAULTS,
  UNET_2D_CONDITION_SCHEMA,
  validateUNet2DConditionOptions,
  type UNet2DConditionOptions,
} from './unet-2d-condition-config.js';
import { resolveUNet2DConditionSpec } from './unet-2d-condition-spec.js';
import { UNET_2D_DEFAULTS, UNET_2D_SCHEMA, validateUNet2DOptions, type UNet2DOptions } from './unet-2d-config.js';
import { resolveUNet2DSpec } from './unet-2d-spec.js';
import type { UNetBodySpec } from './unet-body.js';

/** Floating-point operations of one forward pass, split by kind (a multiply-add counts as 2). */
export interface FlopBreakdown {
  /** Convolutions (including 1x1 projections). */
  convolution: number;
  /** Matrix products: linear layers and attention's `q k^T` and `p v`. */
  matmul: number;
  /** `convolution + matmul`. */
  total: number;
}

/** Options of `countFlops`. */
export interface CountFlopsOptions {
  /** Length of `encoderHiddenStates` for UNet2DConditionModel configs (default 77). */
  sequenceLength?: number;
}

/** Counts FLOPs by walking a resolved UNet layout. */
class FlopCounter {
  convolution = 0;
  matmul = 0;

  constructor(readonly batch: number) {}

  conv(height: number, width: number, inChannels: number, outChannels: number, kernel: number): void {
    this.convolution += 2 * this.batch * height * width * inChannels * outChannels * kernel * kernel;
  }

  linear(rows: number, inFeatures: number, outFeatures: number): void {
    this.matmul += 2 * this.batch * rows * inFeatures * outFeatures;
  }

  /** q k^T and p v for `queries` x `keys` tokens of total width `inner`. */
  attentionProducts(queries: number, keys: number, inner: number): void {
    this.matmul += 2 * 2 * this.batch * queries * keys * inner;
  }

  resnet(height: number, width: number, inChannels: number, outChannels: number, settings: BlockSettings): void {
    this.conv(height, width, inChannels, outChannels, 3);
    this.conv(height, width, outChannels, outChannels, 3);
    if (inChannels !== outChannels) this.conv(height, width, inChannels, outChannels, 1);
    if (settings.tembChannels !== null) this.linear(1, settings.tembChannels, settings.resnetTimeScaleShift === 'scale_shift' ? 2 * outChannels : outChannels);
  }

  selfAttention(tokens: number, channels: number): void {
    for (let i = 0; i < 4; i += 1) this.linear(tokens, channels, channels);
    this.attentionProducts(tokens, tokens, channels);
  }

  transformer(tokens: number, channels: number, settings: BlockSettings, depth: number, sequenceLength: number): void {
    const inner = channels; // heads x (channels / heads)
    const cross = settings.crossAttentionDim;
    this.linear(tokens, channels, inner); // proj_in (1x1 conv or linear: same count)
    for (let i = 0; i < depth; i += 1) {
      const selfKeys = settings.onlyCrossAttention && cross !== null ? sequenceLength : tokens;
      const selfKeyWidth = settings.onlyCrossAttention && cross !== null ? cross : inner;
      this.linear(tokens, inner, inner);
      this.linear(selfKeys, selfKeyWidth, inner);
      this.linear(selfKeys, selfKeyWidth, inner);
      this.linear(tokens, inner, inner);
      this.attentionProducts(tokens, selfKeys, inner);
      if (cross !== null) {
        this.linear(tokens, inner, inner);
        this.linear(sequenceLength, cross, inner);
        this.linear(sequenceLength, cross, inner);
        this.linear(tokens, inner, inner);
        this.attentionProducts(tokens, sequenceLength, inner);
      }
      this.linear(tokens, inner, 8 * inner); // GEGLU projection
      this.linear(tokens, 4 * inner, inner);
    }
    this.linear(tokens, inner, channels); // proj_out
  }

  mixer(type: string, height: number, width: number, channels: number, settings: BlockSettings, layer: number, sequenceLength: number): void {
    if (type.startsWith('CrossAttn') || type === 'UNetMidBlock2DCrossAttn') {
      this.transformer(height * width, channels, settings, settings.transformerLayersPerBlock[layer] ?? 1, sequenceLength);
    } else if (type.startsWith('Attn')) {
      this.selfAttention(height * width, channels);
    }
  }

  walk(spec: UNetBodySpec, height: number, width: number, sequenceLength: number): void {
    const first = spec.blockOutChannels[0];
    const timeInput = spec.timeProjection.kind === 'positional' ? spec.timeProjection.options.numChannels : first;
    this.linear(1, timeInput, spec.timeEmbedDim);
    this.linear(1, spec.timeEmbedDim, spec.timeEmbedDim);
    if (spec.classEmbedding?.kind === 'timestep') {
      this.linear(1, timeInput, spec.timeEmbedDim);
      this.linear(1, spec.timeEmbedDim, spec.timeEmbedDim);
    }
    this.conv(height, width, spec.inChannels, first, spec.convInKernel);
    let h = height;
    let w = width;
    for (const { type, spec: block } of spec.down) {
      for (let i = 0; i < block.numLayers; i += 1) {
        this.resnet(h, w, i === 0 ? block.inChannels : block.outChannels, block.outChannels, block);
        this.mixer(type, h, w, block.outChannels, block, i, sequenceLength);
      }
      if (block.addDownsample) {
        h /= 2;
        w /= 2;
        this.conv(h, w, block.outChannels, block.outChannels, 3);
      }
    }
    if (spec.mid) {
      const { type, spec: block } = spec.mid;
      this.resnet(h, w, block.inChannels, block.inChannels, block);
      for (let i = 0; i < block.numLayers; i += 1) {
        if (type === 'UNetMidBlock2DCrossAttn' || block.addAttention) this.mixer(type === 'UNetMidBlock2D' ? 'Attn' : type, h, w, block.inChannels, block, i, sequenceLength);
        this.resnet(h, w, block.inChannels, block.inChannels, block);
      }
    }
    for (const { type, spec: block } of spec.up) {
      for (let i = 0; i < block.numLayers; i += 1) {
        const skip = i === block.numLayers - 1 ? block.inChannels : block.outChannels;
        this.resnet(h, w, (i === 0 ? block.prevOutputChannel : block.outChannels) + skip, block.outChannels, block);
        this.mixer(type, h, w, block.outChannels, block, i, sequenceLength);
      }
      if (block.addUpsample) {
        h *= 2;
        w *= 2;
        this.conv(h, w, block.outChannels, block.outChannels, 3);
      }
    }
    this.conv(h, w, first, spec.outChannels, spec.convOutKernel);
  }
}

/**
 * FLOPs of one forward pass of a `UNet2DModel` (or, by `_class_name`, `UNet2DConditionModel`)
 * config at `batch` samples of `size` (a side length or [height, width]), split into
 * convolution and matmul FLOPs. Normalisations and element-wise ops are not counted.
 */
export function countFlopsDetailed(
  config: ConfigJson | Partial<UNet2DOptions> | Partial<UNet2DConditionOptions>,
  batch: number,
  size: number | [number, number],
  options: CountFlopsOptions = {},
): FlopBreakdown {
  const [height, width] = typeof size === 'number' ? [size, size] : size;
  const conditional = (config as ConfigJson)._class_name === 'UNet2DConditionModel';
  const spec = conditional
    ? resolveUNet2DConditionSpec(validateUNet2DConditionOptions(parseConfig(config, UNET_2D_CONDITION_SCHEMA, UNET_2D_CONDITION_DEFAULTS).options))
    : resolveUNet2DSpec(validateUNet2DOptions(parseConfig(config, UNET_2D_SCHEMA, UNET_2D_DEFAULTS).options));
  const counter = new FlopCounter(batch);
  counter.walk(spec, height, width, options.sequenceLength ?? 77);
  return { convolution: counter.convolution, matmul: counter.matmul, total: counter.convolution + counter.matmul };
}

/** Total conv + matmul FLOPs of one forward pass (see `countFlopsDetailed`). */
export function countFlops(
  config: ConfigJson | Partial<UNet2DOptions> | Partial<UNet2DConditionOptions>,
  batch: number,
  size: number | [number, number],
  options: CountFlopsOptions = {},
): number {
  return countFlopsDetailed(config, batch, size, options).total;
}
