export {
  BYTES_PER_ELEMENT,
  DEFAULT_MODEL_BUDGET,
  checkModelBudget,
  resolveModelBudget,
  type ConfigSizeEstimate,
  type ModelBudget,
  type ModelSizeEstimate,
} from './model-budget.js';
export { SizeTally } from './size-tally.js';
export { walkUNet, type LayerVisitor } from './unet-layers.js';
export { estimateUNetAt, estimateUNetConfig, estimateUNetSpec, type UNetEstimateSize } from './unet-size.js';
