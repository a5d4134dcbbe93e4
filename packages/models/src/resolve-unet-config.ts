import { parseConfig, type ConfigJson } from '@diffusion-ts/core';
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

/** A UNet config of either family, as `countFlops` and `estimateUNetSize` take it. */
export type AnyUNetConfig = ConfigJson | Partial<UNet2DOptions> | Partial<UNet2DConditionOptions>;

/**
 * Parses, checks and resolves a `UNet2DModel` config (or, by `_class_name`, a
 * `UNet2DConditionModel` one) into the block layout, without building anything.
 */
export function resolveUNetConfig(config: AnyUNetConfig): {
  className: string;
  spec: UNetBodySpec;
  sampleSize: number | [number, number] | null;
} {
  if ((config as ConfigJson)._class_name === 'UNet2DConditionModel') {
    const options = validateUNet2DConditionOptions(
      parseConfig(config, UNET_2D_CONDITION_SCHEMA, UNET_2D_CONDITION_DEFAULTS, 'UNet2DConditionModel').options,
    );
    return { className: 'UNet2DConditionModel', spec: resolveUNet2DConditionSpec(options), sampleSize: options.sampleSize };
  }
  const options = validateUNet2DOptions(parseConfig(config, UNET_2D_SCHEMA, UNET_2D_DEFAULTS, 'UNet2DModel').options);
  return { className: 'UNet2DModel', spec: resolveUNet2DSpec(options), sampleSize: options.sampleSize };
}
