import type { UNetBodySpec } from '../unet-body.js';
import type { ConfigSizeEstimate, ModelSizeEstimate } from './model-budget.js';
import { SizeTally, tallyEstimate } from './size-tally.js';
import { walkUNet } from './unet-layers.js';

/** The sample a UNet estimate is made for. */
export interface UNetEstimateSize {
  /** Samples per forward pass (default 1). */
  batch?: number;
  /** Sample height; with `width`, the activations are estimated (else only the parameters). */
  height?: number;
  width?: number;
  /** Context tokens for cross-attention (default 77). */
  sequenceLength?: number;
}

/**
 * Parameters and peak activation bytes of one forward pass of the UNet `spec`, from a walk over
 * its layers (nothing is allocated). Throws a `ConfigError` for a structure the blocks cannot
 * build (a group count or head count that does not divide a width).
 */
export function estimateUNetSpec(spec: UNetBodySpec, size: UNetEstimateSize, context: string): ModelSizeEstimate {
  const tally = new SizeTally();
  const known = size.height !== undefined && size.width !== undefined;
  walkUNet(spec, tally, { height: size.height ?? 1, width: size.width ?? 1, sequenceLength: size.sequenceLength ?? 77 }, context);
  return tallyEstimate(tally, size.batch ?? 1, known);
}

/** [height, width] from a `sample_size` value, or undefined for none. */
export function sampleSizeOf(sampleSize: number | readonly [number, number] | null): [number | undefined, number | undefined] {
  if (sampleSize === null) return [undefined, undefined];
  return typeof sampleSize === 'number' ? [sampleSize, sampleSize] : [sampleSize[0], sampleSize[1]];
}

/** The estimate of `spec` at `size`; height and width default to the config's `sample_size` (none: parameters only). */
export function estimateUNetAt(
  spec: UNetBodySpec,
  sampleSize: number | readonly [number, number] | null,
  size: UNetEstimateSize,
  context: string,
): ModelSizeEstimate {
  const [height, width] = size.height !== undefined ? [size.height, size.width ?? size.height] : sampleSizeOf(sampleSize);
  return estimateUNetSpec(spec, { ...size, height, width }, context);
}

/** A UNet family's `estimateSize`: one sample at the config's `sample_size`. */
export function estimateUNetConfig(
  spec: UNetBodySpec,
  sampleSize: number | readonly [number, number] | null,
  context: string,
): ConfigSizeEstimate {
  const estimate = estimateUNetAt(spec, sampleSize, {}, context);
  return { estimate, sampleSize: sampleSize === null ? undefined : String(sampleSize) };
}
