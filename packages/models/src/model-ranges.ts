/**
 * The ranges of the models' numeric config keys, shared by the UNets, the VAE and the CLIP text
 * encoder: wide enough for every published Diffusers and transformers checkpoint (SDXL's widest
 * block is 1280 channels, its deepest transformer 10 layers; OpenCLIP bigG has 32 layers of 1280),
 * narrow enough that no value alone asks for an absurd model; the size budget then bounds their
 * combination.
 */
import { formatConfigRange, inConfigRange, type ConfigRange } from '@diffusion-ts/core';

/** Accepted ranges by kind of key (core's `ConfigRange`, used in the schemas' `range`). */
export const MODEL_RANGES = {
  channels: { min: 1, max: 16384 },
  ioChannels: { min: 1, max: 4096 },
  groups: { min: 1, max: 4096 },
  layersPerBlock: { min: 1, max: 32 },
  transformerLayers: { min: 1, max: 64 },
  heads: { min: 1, max: 16384 },
  tableRows: { min: 1, max: 100_000 },
  scale: { min: 0, minExclusive: true, max: 1000 },
  shift: { min: -1000, max: 1000 },
  eps: { min: 0, minExclusive: true, max: 1 },
  dropout: { min: 0, max: 1, maxExclusive: true },
  freqShift: { min: 0, max: 1 },
  downsamplePadding: { min: 0, max: 1 },
  kernel: { min: 1, max: 15 },
  /** A transformer MLP's hidden width (four times the model width, usually). */
  mlpWidth: { min: 1, max: 65536 },
  /** Layers of a text encoder (0 leaves only the embeddings and the final norm). */
  textLayers: { min: 0, max: 256 },
  /** Positions of a text encoder's position table (77 for CLIP). */
  positions: { min: 1, max: 16384 },
  positive: { min: 0, minExclusive: true },
} as const satisfies Record<string, ConfigRange>;

/** An integer check (for `perBlock`) that also names its range. */
export function integerIn(range: ConfigRange): { check: (item: unknown) => item is number; expected: string } {
  return {
    check: (item: unknown): item is number => typeof item === 'number' && Number.isInteger(item) && inConfigRange(item, range),
    expected: `an integer ${formatConfigRange(range)}`,
  };
}
