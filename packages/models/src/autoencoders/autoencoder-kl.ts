import * as tf from '@tensorflow/tfjs-core';
import type { ConfigJson, Generator, PretrainedSource } from '@diffusion-ts/core';
import { Conv2d } from '../layers/conv-2d.js';
import type { FromConfigOptions, ModelFamily } from '../model-config.js';
import { ModelMixin } from '../model-mixin.js';
import type { FromPretrainedOptions } from '../pretrained-io.js';
import { assertFiniteSample, validateSample } from '../sample-checks.js';
import {
  AUTOENCODER_KL_DEFAULTS,
  AUTOENCODER_KL_SCHEMA,
  validateAutoencoderKLOptions,
  type AutoencoderKLOptions,
} from './autoencoder-kl-config.js';
import { estimateAutoencoderKLConfig } from './autoencoder-kl-size.js';
import { DiagonalGaussianDistribution } from './diagonal-gaussian.js';
import { slicedApply, tiledApply } from './tiling.js';
import { VaeDecoder } from './vae-decoder.js';
import { VaeEncoder } from './vae-encoder.js';

const FAMILY: ModelFamily<AutoencoderKLOptions> = {
  className: 'AutoencoderKL',
  schema: AUTOENCODER_KL_SCHEMA,
  defaults: AUTOENCODER_KL_DEFAULTS,
  validate: (options) => validateAutoencoderKLOptions(options),
  estimateSize: (options) => estimateAutoencoderKLConfig(options),
};
const CLASS_NAME = FAMILY.className;

/** The modules of an `AutoencoderKL`, in Diffusers' order. */
interface AutoencoderKLModules {
  encoder: VaeEncoder;
  decoder: VaeDecoder;
  quantConv?: Conv2d;
  postQuantConv?: Conv2d;
}

/** Per-call overrides of `encode`, `decode` and `forward`. */
export interface AutoencoderKLRunOptions {
  /** Tile inputs larger than a tile (default: the model's `useTiling`, see `enableTiling`). */
  tiling?: boolean;
  /** Run the batch one item at a time (default: the model's `useSlicing`, see `enableSlicing`). */
  slicing?: boolean;
}

/** Options of `AutoencoderKL.forward`. */
export interface AutoencoderKLForwardOptions extends AutoencoderKLRunOptions {
  /** Decode a sample of the posterior instead of its mode (default false). */
  samplePosterior?: boolean;
  /** The generator of that sample's noise. */
  generator?: Generator;
}

/** Tile settings of `enableTiling` (Diffusers' attributes of the same names). */
export interface AutoencoderKLTilingOptions {
  /**
   * Side of an image tile (`tile_sample_min_size`); default the config's `sample_size` (its
   * height when it is [height, width]). A multiple of `downsampleFactor`; the latent tile is
   * `tileSampleMinSize / downsampleFactor`.
   */
  tileSampleMinSize?: number;
  /** Fraction of a tile shared with its neighbour, in [0, 1) (`tile_overlap_factor`, default 0.25). */
  tileOverlapFactor?: number;
}

/**
 * Diffusers' `AutoencoderKL`, the VAE of latent diffusion: `encode(images)` gives the diagonal
 * Gaussian posterior over latents, `decode(latents)` gives images. Tensors are **NHWC**; images
 * are usually in [-1, 1]. Neither applies `scalingFactor` / `shiftFactor`: pipelines compute
 * `(latents - shiftFactor) * scalingFactor` after encoding and undo it before decoding.
 *
 * Large inputs can be tiled (`enableTiling`, Diffusers' overlapping tiles blended linearly: the
 * same numbers as Diffusers' tiled pass, not those of an untiled one, because each tile has its
 * own group-norm statistics and attention) and batches sliced (`enableSlicing`, identical
 * results). Everything runs in float32 (`force_upcast` is kept in the config only).
 */
export class AutoencoderKL extends ModelMixin<AutoencoderKLOptions> {
  readonly encoder: VaeEncoder;
  readonly decoder: VaeDecoder;
  /** The 1x1 conv on the moments (`use_quant_conv`). */
  readonly quantConv?: Conv2d;
  /** The 1x1 conv on the latents before the decoder (`use_post_quant_conv`). */
  readonly postQuantConv?: Conv2d;
  /** Whether `encode` and `decode` run one batch item at a time by default. */
  useSlicing = false;
  /** Whether `encode` and `decode` tile large inputs by default. */
  useTiling = false;
  private tileSample: number;
  private tileOverlap = 0.25;

  private constructor(options: AutoencoderKLOptions, seed: number | null, unknownConfig: ConfigJson) {
    super(FAMILY, options, seed, unknownConfig);
    const modules = this.buildModules((scope): AutoencoderKLModules => {
      // Diffusers' module order: encoder, decoder, quant_conv, post_quant_conv.
      const latents = options.latentChannels;
      return {
        encoder: new VaeEncoder(scope.child('encoder'), options),
        decoder: new VaeDecoder(scope.child('decoder'), options),
        quantConv: options.useQuantConv
          ? new Conv2d(scope.child('quant_conv'), { inChannels: 2 * latents, outChannels: 2 * latents, kernelSize: 1 })
          : undefined,
        postQuantConv: options.usePostQuantConv
          ? new Conv2d(scope.child('post_quant_conv'), { inChannels: latents, outChannels: latents, kernelSize: 1 })
          : undefined,
      };
    });
    this.encoder = modules.encoder;
    this.decoder = modules.decoder;
    this.quantConv = modules.quantConv;
    this.postQuantConv = modules.postQuantConv;
    this.tileSample = typeof options.sampleSize === 'number' ? options.sampleSize : options.sampleSize[0];
  }

  /**
   * Builds a randomly initialised model (PyTorch's default initialisation, seeded) from a
   * Diffusers config (snake_case) or our options (camelCase); missing keys take Diffusers'
   * defaults, unknown keys become warnings, bad values a `ConfigError` naming the key.
   */
  static fromConfig(config: ConfigJson | Partial<AutoencoderKLOptions>, options: FromConfigOptions = {}): AutoencoderKL {
    return ModelMixin.buildFromConfig(FAMILY, config, options, (...args) => new AutoencoderKL(...args));
  }

  /**
   * Loads `config.json` and `diffusion_pytorch_model.safetensors` (F32, F16 or BF16, widened to
   * float32) from a local folder or an http(s) base URL, e.g. the `vae` subfolder of a Stable
   * Diffusion folder. Missing or mis-shaped weights throw a `WeightsError` listing the names;
   * unused weights are warnings (errors with `strict`); old attention names are renamed;
   * `variant: 'fp16'` reads `diffusion_pytorch_model.fp16.safetensors`.
   */
  static async fromPretrained(source: string | PretrainedSource, options: FromPretrainedOptions = {}): Promise<AutoencoderKL> {
    return ModelMixin.loadPretrained(FAMILY, source, options, (...args) => new AutoencoderKL(...args));
  }

  /** The config's `scaling_factor`: latents for diffusion are `(z - shiftFactor) * scalingFactor`. */
  get scalingFactor(): number {
    return this.config.scalingFactor;
  }

  /** The config's `shift_factor`, 0 when it is `null`. */
  get shiftFactor(): number {
    return this.config.shiftFactor ?? 0;
  }

  /** How many times the encoder halves H and W (`len(block_out_channels) - 1`). */
  get downsampleCount(): number {
    return this.config.blockOutChannels.length - 1;
  }

  /** Image pixels per latent pixel along each side (Diffusers pipelines' `vae_scale_factor`). */
  get downsampleFactor(): number {
    return 2 ** this.downsampleCount;
  }

  /** Side of an image tile (Diffusers' `tile_sample_min_size`). */
  get tileSampleMinSize(): number {
    return this.tileSample;
  }

  /** Side of a latent tile (Diffusers' `tile_latent_min_size`). */
  get tileLatentMinSize(): number {
    return Math.trunc(this.tileSample / this.downsampleFactor);
  }

  /** Fraction of a tile shared with its neighbour (Diffusers' `tile_overlap_factor`). */
  get tileOverlapFactor(): number {
    return this.tileOverlap;
  }

  /**
   * Tiles inputs larger than one tile in `encode` and `decode` from now on (Diffusers'
   * `enable_tiling`), optionally with other tile settings; memory then grows with two rows of
   * tiles rather than with the image.
   */
  enableTiling(options: AutoencoderKLTilingOptions = {}): void {
    const { tileSampleMinSize = this.tileSample, tileOverlapFactor = this.tileOverlap } = options;
    if (options.tileSampleMinSize !== undefined) {
      if (!Number.isSafeInteger(tileSampleMinSize) || tileSampleMinSize < 1 || tileSampleMinSize % this.downsampleFactor !== 0) {
        throw new RangeError(
          `${CLASS_NAME}.enableTiling: tileSampleMinSize must be a positive multiple of ${this.downsampleFactor}, got ${tileSampleMinSize}`,
        );
      }
    }
    if (!(tileOverlapFactor >= 0 && tileOverlapFactor < 1)) {
      throw new RangeError(`${CLASS_NAME}.enableTiling: tileOverlapFactor must lie in [0, 1), got ${tileOverlapFactor}`);
    }
    this.tileSample = tileSampleMinSize;
    this.tileOverlap = tileOverlapFactor;
    this.useTiling = true;
  }

  /** Stops tiling (Diffusers' `disable_tiling`). */
  disableTiling(): void {
    this.useTiling = false;
  }

  /** Encodes and decodes one batch item at a time from now on (Diffusers' `enable_slicing`). */
  enableSlicing(): void {
    this.useSlicing = true;
  }

  /** Stops slicing (Diffusers' `disable_slicing`). */
  disableSlicing(): void {
    this.useSlicing = false;
  }

  /**
   * The posterior over latents of `images` [B, H, W, inChannels] (NHWC, H and W multiples of
   * `downsampleFactor`): a `DiagonalGaussianDistribution` of shape [B, H / f, W / f,
   * latentChannels] that the caller disposes. Wrong shapes and NaN throw a `RangeError`.
   */
  encode(images: tf.Tensor4D, options: AutoencoderKLRunOptions = {}): DiagonalGaussianDistribution {
    validateSample(images, this.config.inChannels, this.downsampleCount, `${CLASS_NAME}.encode`, 'images');
    assertFiniteSample(images, `${CLASS_NAME}.encode`, 'images');
    const moments = this.run(images, options, this.tileSample, this.tileLatentMinSize, (tile) => this.encodeTile(tile));
    try {
      return new DiagonalGaussianDistribution(moments);
    } finally {
      moments.dispose();
    }
  }

  /**
   * Images [B, h * f, w * f, outChannels] (NHWC) from `latents` [B, h, w, latentChannels], which
   * must already be unscaled (`latents / scalingFactor + shiftFactor`). Runs in `tf.tidy`.
   */
  decode(latents: tf.Tensor4D, options: AutoencoderKLRunOptions = {}): tf.Tensor4D {
    validateSample(latents, this.config.latentChannels, 0, `${CLASS_NAME}.decode`, 'latents', 'latent_channels');
    assertFiniteSample(latents, `${CLASS_NAME}.decode`, 'latents');
    return this.run(latents, options, this.tileLatentMinSize, this.tileSample, (tile) => this.decodeTile(tile));
  }

  /**
   * Encodes `images`, takes the posterior's mode (or a sample with `samplePosterior`) and decodes
   * it (Diffusers' `forward`).
   */
  forward(images: tf.Tensor4D, options: AutoencoderKLForwardOptions = {}): tf.Tensor4D {
    const posterior = this.encode(images, options);
    try {
      return tf.tidy(() => this.decode(options.samplePosterior ? posterior.sample(options.generator) : posterior.mean, options));
    } finally {
      posterior.dispose();
    }
  }

  /** Encoder then `quant_conv` on one tile (or the whole image). */
  private encodeTile(images: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const moments = this.encoder.apply(images, this.training);
      return this.quantConv ? this.quantConv.apply(moments) : moments;
    });
  }

  /** `post_quant_conv` then decoder on one tile (or the whole latent). */
  private decodeTile(latents: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.decoder.apply(this.postQuantConv ? this.postQuantConv.apply(latents) : latents, this.training));
  }

  /**
   * Runs `pass` on `x` as Diffusers does: per batch item when slicing, tiled when tiling and `x`
   * is larger than `inputTile` on either side.
   */
  private run(
    x: tf.Tensor4D,
    options: AutoencoderKLRunOptions,
    inputTile: number,
    outputTile: number,
    pass: (x: tf.Tensor4D) => tf.Tensor4D,
  ): tf.Tensor4D {
    const tiling = options.tiling ?? this.useTiling;
    const slicing = options.slicing ?? this.useSlicing;
    const layout = { inputTile, outputTile, overlapFactor: this.tileOverlap };
    const one = (item: tf.Tensor4D): tf.Tensor4D =>
      tiling && (item.shape[1] > inputTile || item.shape[2] > inputTile) ? tiledApply(item, layout, pass) : pass(item);
    return slicing && x.shape[0] > 1 ? slicedApply(x, one) : tf.tidy(() => one(x));
  }
}
