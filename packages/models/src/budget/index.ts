export {
  BYTES_PER_ELEMENT,
  DEFAULT_MODEL_BUDGET,
  checkModelBudget,
  resolveModelBudget,
  type ConfigSizeEstimate,
  type ModelBudget,
  type ModelSizeEstimate,
} from './model-budget.js';
export { SizeTally, tallyEstimate } from './size-tally.js';
export { LayerWalk, type LayerVisitor } from './layer-walk.js';
export { walkUNet } from './unet-layers.js';
export { estimateUNetAt, estimateUNetConfig, estimateUNetSpec, type UNetEstimateSize } from './unet-size.js';
