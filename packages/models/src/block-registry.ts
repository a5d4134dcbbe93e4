import type { DownBlock, DownBlockSpec, MidBlock, MidBlockSpec, UpBlock, UpBlockSpec } from './blocks/block-types.js';
import { createAttnDownBlock2D, createCrossAttnDownBlock2D, createDownBlock2D } from './blocks/down-blocks.js';
import { createUNetMidBlock2D, createUNetMidBlock2DCrossAttn } from './blocks/mid-blocks.js';
import { createAttnUpBlock2D, createCrossAttnUpBlock2D, createUpBlock2D } from './blocks/up-blocks.js';
import type { ParameterScope } from './parameters/parameter-store.js';

/** Down block types understood in `down_block_types`. */
export const DOWN_BLOCK_TYPES = ['DownBlock2D', 'AttnDownBlock2D', 'CrossAttnDownBlock2D'] as const;
/** Up block types understood in `up_block_types`. */
export const UP_BLOCK_TYPES = ['UpBlock2D', 'AttnUpBlock2D', 'CrossAttnUpBlock2D'] as const;
/** Mid block types understood in `mid_block_type`. */
export const MID_BLOCK_TYPES = ['UNetMidBlock2D', 'UNetMidBlock2DCrossAttn'] as const;

/** A Diffusers down block name. */
export type DownBlockType = (typeof DOWN_BLOCK_TYPES)[number];
/** A Diffusers up block name. */
export type UpBlockType = (typeof UP_BLOCK_TYPES)[number];
/** A Diffusers mid block name. */
export type MidBlockType = (typeof MID_BLOCK_TYPES)[number];

/** Down block constructors keyed by Diffusers name. */
export const DOWN_BLOCKS: Record<DownBlockType, (scope: ParameterScope, spec: DownBlockSpec) => DownBlock> = {
  DownBlock2D: createDownBlock2D,
  AttnDownBlock2D: createAttnDownBlock2D,
  CrossAttnDownBlock2D: createCrossAttnDownBlock2D,
};

/** Up block constructors keyed by Diffusers name. */
export const UP_BLOCKS: Record<UpBlockType, (scope: ParameterScope, spec: UpBlockSpec) => UpBlock> = {
  UpBlock2D: createUpBlock2D,
  AttnUpBlock2D: createAttnUpBlock2D,
  CrossAttnUpBlock2D: createCrossAttnUpBlock2D,
};

/** Mid block constructors keyed by Diffusers name. */
export const MID_BLOCKS: Record<MidBlockType, (scope: ParameterScope, spec: MidBlockSpec) => MidBlock> = {
  UNetMidBlock2D: createUNetMidBlock2D,
  UNetMidBlock2DCrossAttn: createUNetMidBlock2DCrossAttn,
};
