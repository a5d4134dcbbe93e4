/**
 * The size of an `AutoencoderKL` config, from a walk over the layers its encoder and decoder
 * build (nothing is allocated): the family's `estimateSize`, held to the model budget before
 * `fromConfig` or `fromPretrained` builds anything.
 */
import { LayerWalk, type LayerVisitor } from '../budget/layer-walk.js';
import { BYTES_PER_ELEMENT, type ConfigSizeEstimate, type ModelSizeEstimate } from '../budget/model-budget.js';
import { SizeTally } from '../budget/size-tally.js';
import type { AutoencoderKLOptions } from './autoencoder-kl-config.js';
import { vaeBlockSettings } from './vae-blocks.js';

/** Walks the encoder (images of `height` x `width`) or the decoder (latents of that size). */
class AutoencoderKLWalk extends LayerWalk {
  constructor(
    visitor: LayerVisitor,
    private readonly options: AutoencoderKLOptions,
    context: string,
  ) {
    super(visitor, context);
  }

  private conv(rows: number, inChannels: number, outChannels: number, kernel: number): void {
    this.visitor.unit(rows, outChannels, () => this.visitor.conv(rows, inChannels, outChannels, kernel));
  }

  /** A down or up block's resnets (each followed by self-attention in the `Attn*` types). */
  private resnets(rows: number, inChannels: number, width: number, layers: number, attention: boolean, where: string): void {
    const settings = vaeBlockSettings(this.options, width);
    for (let i = 0; i < layers; i += 1) {
      this.resnet(rows, i === 0 ? inChannels : width, width, settings, `${where}.resnets.${i}`);
      if (attention) this.selfAttention(rows, width, settings, settings.resnetGroups, 'norm_num_groups', `${where}.attentions.${i}`);
    }
  }

  /** `UNetMidBlock2D`: resnet, (attention,) resnet at the last block's width. */
  private midBlock(rows: number, where: string): void {
    const { blockOutChannels, midBlockAddAttention, normNumGroups } = this.options;
    const width = blockOutChannels[blockOutChannels.length - 1];
    const settings = vaeBlockSettings(this.options, width);
    this.resnet(rows, width, width, settings, `${where}.resnets.0`);
    if (midBlockAddAttention) this.selfAttention(rows, width, settings, normNumGroups, 'norm_num_groups', `${where}.attentions.0`);
    this.resnet(rows, width, width, settings, `${where}.resnets.1`);
  }

  /** `conv_norm_out`, SiLU and `conv_out`. */
  private output(rows: number, inChannels: number, outChannels: number, where: string): void {
    this.visitor.unit(rows, outChannels, () => {
      this.groupNorm(rows, inChannels, this.options.normNumGroups, 'norm_num_groups', `${where}.conv_norm_out`);
      this.visitor.conv(rows, inChannels, outChannels, 3);
    });
  }

  /** Encoder and `quant_conv` on images of `pixels` pixels. */
  encoder(pixels: number): void {
    const { blockOutChannels: channels, downBlockTypes, inChannels, latentChannels, layersPerBlock } = this.options;
    let rows = pixels;
    this.conv(rows, inChannels, channels[0], 3);
    downBlockTypes.forEach((type, i) => {
      this.resnets(
        rows,
        channels[Math.max(i - 1, 0)],
        channels[i],
        layersPerBlock,
        type === 'AttnDownEncoderBlock2D',
        `encoder.down_blocks.${i}`,
      );
      if (i !== channels.length - 1) {
        rows /= 4;
        this.conv(rows, channels[i], channels[i], 3);
      }
    });
    this.midBlock(rows, 'encoder.mid_block');
    this.output(rows, channels[channels.length - 1], 2 * latentChannels, 'encoder');
    if (this.options.useQuantConv) this.conv(rows, 2 * latentChannels, 2 * latentChannels, 1);
  }

  /** `post_quant_conv` and the decoder on latents of `pixels` pixels. */
  decoder(pixels: number): void {
    const { blockOutChannels, upBlockTypes, latentChannels, layersPerBlock, outChannels } = this.options;
    const reversed = [...blockOutChannels].reverse();
    let rows = pixels;
    if (this.options.usePostQuantConv) this.conv(rows, latentChannels, latentChannels, 1);
    this.conv(rows, latentChannels, reversed[0], 3);
    this.midBlock(rows, 'decoder.mid_block');
    upBlockTypes.forEach((type, i) => {
      this.resnets(
        rows,
        reversed[Math.max(i - 1, 0)],
        reversed[i],
        layersPerBlock + 1,
        type === 'AttnUpDecoderBlock2D',
        `decoder.up_blocks.${i}`,
      );
      if (i !== reversed.length - 1) {
        rows *= 4;
        this.conv(rows, reversed[i], reversed[i], 3);
      }
    });
    this.output(rows, blockOutChannels[0], outChannels, 'decoder');
  }
}

/**
 * Parameters and peak activation bytes of `forward` (encode, then decode) on `batch` images of
 * `height` x `width` (default: the config's `sample_size`). The encoder's activations are freed
 * before the decoder runs, so the peak is the larger of the two. Throws a `ConfigError` for a
 * structure the blocks cannot build.
 */
export function estimateAutoencoderKL(
  options: AutoencoderKLOptions,
  size: { batch?: number; height?: number; width?: number } = {},
  context = 'AutoencoderKL',
): ModelSizeEstimate {
  const sample = options.sampleSize;
  const height = size.height ?? (typeof sample === 'number' ? sample : sample[0]);
  const width = size.width ?? size.height ?? (typeof sample === 'number' ? sample : sample[1]);
  // Each level but the last halves both sides.
  const latentPixels = (height * width) / 4 ** (options.blockOutChannels.length - 1);
  const encoder = new SizeTally();
  new AutoencoderKLWalk(encoder, options, context).encoder(height * width);
  const decoder = new SizeTally();
  new AutoencoderKLWalk(decoder, options, context).decoder(latentPixels);
  const batch = size.batch ?? 1;
  const parameters = encoder.parameters + decoder.parameters;
  return {
    parameters,
    parameterBytes: parameters * BYTES_PER_ELEMENT,
    activationBytes: Math.max(encoder.peakElements, decoder.peakElements) * batch * BYTES_PER_ELEMENT,
    largestTensorBytes: Math.max(encoder.largestTensorElements, decoder.largestTensorElements) * batch * BYTES_PER_ELEMENT,
  };
}

/** The `AutoencoderKL` family's `estimateSize`: one image at the config's `sample_size`. */
export function estimateAutoencoderKLConfig(options: AutoencoderKLOptions, context = 'AutoencoderKL'): ConfigSizeEstimate {
  return { estimate: estimateAutoencoderKL(options, {}, context), sampleSize: String(options.sampleSize) };
}
