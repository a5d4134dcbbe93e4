import type { LayerVisitor } from './budget/layer-walk.js';
import { walkUNet } from './budget/unet-layers.js';
import { resolveUNetConfig, type AnyUNetConfig } from './resolve-unet-config.js';

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

/** Counts the FLOPs of one sample's layers (norms, tables and element-wise ops are not counted). */
class FlopCounter implements LayerVisitor {
  convolution = 0;
  matmul = 0;

  conv(rows: number, inChannels: number, outChannels: number, kernel: number): void {
    this.convolution += 2 * rows * inChannels * outChannels * kernel * kernel;
  }

  linear(rows: number, inFeatures: number, outFeatures: number): void {
    this.matmul += 2 * rows * inFeatures * outFeatures;
  }

  norm(): void {}

  embedding(): void {}

  /** q k^T and p v for `queries` x `keys` tokens of total width `inner`. */
  attention(queries: number, keys: number, inner: number): void {
    this.matmul += 2 * 2 * queries * keys * inner;
  }

  unit(_rows: number, _channels: number, body: () => void): void {
    body();
  }
}

/**
 * FLOPs of one forward pass of a `UNet2DModel` (or, by `_class_name`, `UNet2DConditionModel`)
 * config at `batch` samples of `size` (a side length or [height, width]), split into
 * convolution and matmul FLOPs. Normalisations and element-wise ops are not counted.
 */
export function countFlopsDetailed(
  config: AnyUNetConfig,
  batch: number,
  size: number | [number, number],
  options: CountFlopsOptions = {},
): FlopBreakdown {
  const [height, width] = typeof size === 'number' ? [size, size] : size;
  const { className, spec } = resolveUNetConfig(config);
  const counter = new FlopCounter();
  walkUNet(spec, counter, { height, width, sequenceLength: options.sequenceLength ?? 77 }, className);
  const convolution = batch * counter.convolution;
  const matmul = batch * counter.matmul;
  return { convolution, matmul, total: convolution + matmul };
}

/** Total conv + matmul FLOPs of one forward pass (see `countFlopsDetailed`). */
export function countFlops(config: AnyUNetConfig, batch: number, size: number | [number, number], options: CountFlopsOptions = {}): number {
  return countFlopsDetailed(config, batch, size, options).total;
}
