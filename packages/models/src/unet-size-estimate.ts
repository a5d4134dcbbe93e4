import { estimateUNetAt, type UNetEstimateSize } from './budget/unet-size.js';
import type { ModelSizeEstimate } from './budget/model-budget.js';
import { resolveUNetConfig, type AnyUNetConfig } from './resolve-unet-config.js';

/**
 * The parameter count and peak activation bytes (float32) of a `UNet2DModel` config (or, by
 * `_class_name`, a `UNet2DConditionModel` one), from its layers alone: nothing is allocated.
 * Activations are estimated for `size` (default: the config's `sample_size`, batch 1), an
 * upper estimate of what one forward pass holds at its peak.
 */
export function estimateUNetSize(config: AnyUNetConfig, size: UNetEstimateSize = {}): ModelSizeEstimate {
  const { className, spec, sampleSize } = resolveUNetConfig(config);
  return estimateUNetAt(spec, sampleSize, size, className);
}
