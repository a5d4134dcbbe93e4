import type { DownBlock, DownBlockSpec, MidBlock, MidBlockSpec, UpBlock, UpBlockSpec } from './blocks/block-types.js';
import {
  createAttnDownBlock2D,
  createAttnDownEncoderBlock2D,
  createCrossAttnDownBlock2D,
  createDownBlock2D,
  createDownEncoderBlock2D,
} from './blocks/down-blocks.js';
import { createUNetMidBlock2D, createUNetMidBlock2DCrossAttn } from './blocks/mid-blocks.js';
import {
  createAttnUpBlock2D,
  createAttnUpDecoderBlock2D,
  createCrossAttnUpBlock2D,
  createUpBlock2D,
  createUpDecoderBlock2D,
} from './blocks/up-blocks.js';
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

/** Down block types of a VAE encoder (`AutoencoderKL`'s `down_block_types`). */
export const ENCODER_BLOCK_TYPES = ['DownEncoderBlock2D', 'AttnDownEncoderBlock2D'] as const;
/** Up block types of a VAE decoder (`AutoencoderKL`'s `up_block_types`). */
export const DECODER_BLOCK_TYPES = ['UpDecoderBlock2D', 'AttnUpDecoderBlock2D'] as const;

/** A Diffusers VAE encoder block name. */
export type EncoderBlockType = (typeof ENCODER_BLOCK_TYPES)[number];
/** A Diffusers VAE decoder block name. */
export type DecoderBlockType = (typeof DECODER_BLOCK_TYPES)[number];

/** VAE encoder block constructors keyed by Diffusers name (their skip activations go unused). */
export const ENCODER_BLOCKS: Record<EncoderBlockType, (scope: ParameterScope, spec: DownBlockSpec) => DownBlock> = {
  DownEncoderBlock2D: createDownEncoderBlock2D,
  AttnDownEncoderBlock2D: createAttnDownEncoderBlock2D,
};

/** VAE decoder block constructors keyed by Diffusers name (they consume no skip activations). */
export const DECODER_BLOCKS: Record<DecoderBlockType, (scope: ParameterScope, spec: UpBlockSpec) => UpBlock> = {
  UpDecoderBlock2D: createUpDecoderBlock2D,
  AttnUpDecoderBlock2D: createAttnUpDecoderBlock2D,
};
