import { ConfigError, type ConfigSchema } from '@diffusion-ts/core';
import { DECODER_BLOCK_TYPES, ENCODER_BLOCK_TYPES, type DecoderBlockType, type EncoderBlockType } from '../block-registry.js';
import { ACTIVATION_NAMES, type ActivationName } from '../layers/activation.js';
import { checkSampleSize, configFailure, sortedByKey } from '../model-config.js';
import { MODEL_RANGES } from '../model-ranges.js';

/** `AutoencoderKL` options: Diffusers' `config.json` keys in camelCase, with Diffusers' defaults. */
export interface AutoencoderKLOptions {
  actFn: ActivationName;
  blockOutChannels: number[];
  downBlockTypes: EncoderBlockType[];
  /**
   * Diffusers runs an fp16 VAE in float32 when this is set; here every computation is float32
   * already (fp16/bf16 weights are widened when loaded), so it is kept for the round trip only.
   */
  forceUpcast: boolean;
  inChannels: number;
  latentChannels: number;
  /** Per-channel latent statistics some VAEs publish (SDXL-style pipelines use them); informational. */
  latentsMean: number[] | null;
  latentsStd: number[] | null;
  layersPerBlock: number;
  /** Whether the encoder's and decoder's mid blocks have attention. */
  midBlockAddAttention: boolean;
  normNumGroups: number;
  outChannels: number;
  /** Training resolution (an integer or [height, width]); also the default tile size of tiled encoding. */
  sampleSize: number | [number, number];
  /** Latents are multiplied by this before diffusion and divided by it before decoding. */
  scalingFactor: number;
  /** Subtracted from latents before scaling (and added back before decoding), when set. */
  shiftFactor: number | null;
  upBlockTypes: DecoderBlockType[];
  /** Whether `post_quant_conv` (a 1x1 conv on the latents) runs before the decoder. */
  usePostQuantConv: boolean;
  /** Whether `quant_conv` (a 1x1 conv on the moments) runs after the encoder. */
  useQuantConv: boolean;
}

/** Diffusers' `AutoencoderKL` defaults. */
export const AUTOENCODER_KL_DEFAULTS: AutoencoderKLOptions = sortedByKey<AutoencoderKLOptions>({
  actFn: 'silu',
  blockOutChannels: [64],
  downBlockTypes: ['DownEncoderBlock2D'],
  forceUpcast: true,
  inChannels: 3,
  latentChannels: 4,
  latentsMean: null,
  latentsStd: null,
  layersPerBlock: 1,
  midBlockAddAttention: true,
  normNumGroups: 32,
  outChannels: 3,
  sampleSize: 32,
  scalingFactor: 0.18215,
  shiftFactor: null,
  upBlockTypes: ['UpDecoderBlock2D'],
  usePostQuantConv: true,
  useQuantConv: true,
});

/** The config schema of `AutoencoderKL` (keys in Diffusers' sorted order). */
export const AUTOENCODER_KL_SCHEMA: ConfigSchema<AutoencoderKLOptions> = sortedByKey<ConfigSchema<AutoencoderKLOptions>>({
  actFn: { kind: 'string', values: ACTIVATION_NAMES },
  blockOutChannels: { kind: 'integer[]', range: MODEL_RANGES.channels },
  downBlockTypes: { kind: 'string[]', values: ENCODER_BLOCK_TYPES },
  forceUpcast: { kind: 'boolean' },
  inChannels: { kind: 'integer', range: MODEL_RANGES.ioChannels },
  latentChannels: { kind: 'integer', range: MODEL_RANGES.ioChannels },
  latentsMean: { kind: 'number[]', nullable: true },
  latentsStd: { kind: 'number[]', nullable: true, range: MODEL_RANGES.positive },
  layersPerBlock: { kind: 'integer', range: MODEL_RANGES.layersPerBlock },
  midBlockAddAttention: { kind: 'boolean' },
  normNumGroups: { kind: 'integer', range: MODEL_RANGES.groups },
  outChannels: { kind: 'integer', range: MODEL_RANGES.ioChannels },
  sampleSize: { kind: 'json' },
  scalingFactor: { kind: 'number', range: MODEL_RANGES.scale },
  shiftFactor: { kind: 'number', nullable: true, range: MODEL_RANGES.shift },
  upBlockTypes: { kind: 'string[]', values: DECODER_BLOCK_TYPES },
  usePostQuantConv: { kind: 'boolean' },
  useQuantConv: { kind: 'boolean' },
});

/**
 * Checks what the schema's types and ranges cannot: one block type per level, every width (and
 * the attention's) divisible by `norm_num_groups`, per-channel latent statistics of the latent
 * width and a `sample_size`. Each failure is a `ConfigError` naming the key.
 */
export function validateAutoencoderKLOptions(options: AutoencoderKLOptions, context = 'AutoencoderKL'): AutoencoderKLOptions {
  const fail = configFailure(context);
  const channels = options.blockOutChannels;
  if (channels.length === 0) fail('block_out_channels', 'must not be empty');
  if (options.downBlockTypes.length !== channels.length) {
    fail('down_block_types', `has ${options.downBlockTypes.length} entries but block_out_channels has ${channels.length}`);
  }
  if (options.upBlockTypes.length !== channels.length) {
    fail('up_block_types', `has ${options.upBlockTypes.length} entries but block_out_channels has ${channels.length}`);
  }
  const indivisible = channels.find((width) => width % options.normNumGroups !== 0);
  if (indivisible !== undefined) {
    fail('norm_num_groups', `(${options.normNumGroups}) must divide every block_out_channels entry, but not ${indivisible}`);
  }
  for (const [key, values] of [
    ['latents_mean', options.latentsMean],
    ['latents_std', options.latentsStd],
  ] as const) {
    if (values !== null && values.length !== options.latentChannels) {
      fail(key, `has ${values.length} entries but latent_channels is ${options.latentChannels}`);
    }
  }
  const sampleSize = checkSampleSize(options.sampleSize, context);
  if (sampleSize === null)
    throw new ConfigError(`${context}: config key 'sample_size' must be set (it sizes the tiles of tiled encoding)`, 'sample_size');
  return { ...options, sampleSize };
}
