import type * as tf from '@tensorflow/tfjs-core';
import type { ConfigJson, PretrainedSource } from '@diffusion-ts/core';
import type { FromConfigOptions, ModelFamily } from './model-config.js';
import { ModelMixin } from './model-mixin.js';
import type { FromPretrainedOptions } from './pretrained-io.js';
import { validateClassLabels, validateSample } from './sample-checks.js';
import { UNET_2D_DEFAULTS, UNET_2D_SCHEMA, validateUNet2DOptions, type UNet2DOptions } from './unet-2d-config.js';
import { resolveUNet2DSpec } from './unet-2d-spec.js';
import { estimateUNetAt, estimateUNetConfig, type UNetEstimateSize } from './budget/unet-size.js';
import type { ModelSizeEstimate } from './budget/model-budget.js';
import { UNetBody } from './unet-body.js';

export type { FromConfigOptions } from './model-config.js';

/** Conditioning of `UNet2DModel.predict`. */
export interface UNet2DConditioning {
  /** Class ids [B] for class-conditional models (`num_class_embeds` or `class_embed_type: "timestep"`). */
  classLabels?: tf.Tensor1D;
}

const FAMILY: ModelFamily<UNet2DOptions> = {
  className: 'UNet2DModel',
  schema: UNET_2D_SCHEMA,
  defaults: UNET_2D_DEFAULTS,
  validate: (options) => validateUNet2DOptions(options),
  // The layout is walked (structure checked, size estimated) before any weight is allocated.
  estimateSize: (options) => estimateUNetConfig(resolveUNet2DSpec(options), options.sampleSize, 'UNet2DModel'),
};
const CLASS_NAME = FAMILY.className;

/**
 * Diffusers' `UNet2DModel`: an unconditional (or class-conditional) UNet that maps a noisy sample
 * and a timestep to a sample of the same shape. Tensors are **NHWC** ([batch, height, width,
 * channels]) on the public API and inside; weights use Diffusers' names and are converted from
 * PyTorch's layout when loaded and back when saved. In this model `attention_head_dim` is the
 * size of one attention head (as in Diffusers).
 */
export class UNet2DModel extends ModelMixin<UNet2DOptions> {
  private readonly body: UNetBody;

  private constructor(options: UNet2DOptions, seed: number | null, unknownConfig: ConfigJson) {
    const spec = resolveUNet2DSpec(options);
    super(FAMILY, options, seed, unknownConfig);
    this.body = this.buildModules((scope) => new UNetBody(scope, spec));
  }

  /**
   * Builds a randomly initialised model (PyTorch's default initialisation, seeded) from a
   * Diffusers config (snake_case) or our options (camelCase); missing keys take Diffusers' defaults.
   */
  static fromConfig(config: ConfigJson | Partial<UNet2DOptions>, options: FromConfigOptions = {}): UNet2DModel {
    return ModelMixin.buildFromConfig(FAMILY, config, options, (...args) => new UNet2DModel(...args));
  }

  /**
   * Loads `config.json` and `diffusion_pytorch_model.safetensors` (F32, F16 or BF16) from a local
   * folder or an http(s) base URL. Missing or mis-shaped weights throw a `WeightsError` listing
   * the names; unused weights and unknown config keys are reported through `onWarning`.
   */
  static async fromPretrained(source: string | PretrainedSource, options: FromPretrainedOptions = {}): Promise<UNet2DModel> {
    return ModelMixin.loadPretrained(FAMILY, source, options, (...args) => new UNet2DModel(...args));
  }

  /**
   * The memory of one forward pass at `batch` samples of `height` x `width` (default: the
   * config's `sample_size`), estimated from the layers: the float32 weights and the peak
   * activations. Pipelines check it against the backend before generating.
   */
  estimateMemory(size: UNetEstimateSize = {}): ModelSizeEstimate {
    return estimateUNetAt(this.body.spec, this.config.sampleSize, size, CLASS_NAME);
  }

  /** The number of stride-2 downsamples; H and W must be multiples of 2 to this power. */
  get downsampleCount(): number {
    return this.body.downsampleCount;
  }

  /**
   * Predicts from `sample` [B, H, W, inChannels] (NHWC) at `timestep` (a number for the whole
   * batch, or a [B] tensor) the model output [B, H, W, outChannels] (NHWC). Runs in `tf.tidy`.
   */
  predict(sample: tf.Tensor4D, timestep: number | tf.Tensor1D, conditioning: UNet2DConditioning = {}): tf.Tensor4D {
    validateSample(sample, this.config.inChannels, this.body.downsampleCount, CLASS_NAME);
    const { classLabels } = conditioning;
    validateClassLabels(classLabels, sample.shape[0], this.body.hasClassEmbedding, CLASS_NAME);
    return this.body.run(sample, timestep, { classLabels }, this.training, CLASS_NAME);
  }
}
