import type * as tf from '@tensorflow/tfjs-core';
import type { ConfigJson, PretrainedSource } from '@diffusion-ts/core';
import { UNetModelBase } from './model-base.js';
import type { FromPretrainedOptions } from './pretrained-io.js';
import { UNet2DModelCommon, type FromConfigOptions, type UNet2DFamily } from './unet-2d-common.js';
import { UNET_2D_DEFAULTS, UNET_2D_SCHEMA, validateUNet2DOptions, type UNet2DOptions } from './unet-2d-config.js';
import { resolveUNet2DSpec } from './unet-2d-spec.js';

export type { FromConfigOptions } from './unet-2d-common.js';

/** Conditioning of `UNet2DModel.predict`. */
export interface UNet2DConditioning {
  /** Class ids [B] for class-conditional models (`num_class_embeds` or `class_embed_type: "timestep"`). */
  classLabels?: tf.Tensor1D;
}

const FAMILY: UNet2DFamily<UNet2DOptions> = {
  className: 'UNet2DModel',
  schema: UNET_2D_SCHEMA,
  defaults: UNET_2D_DEFAULTS,
  validate: (options) => validateUNet2DOptions(options),
  resolve: resolveUNet2DSpec,
};

/**
 * Diffusers' `UNet2DModel`: an unconditional (or class-conditional) UNet that maps a noisy sample
 * and a timestep to a sample of the same shape. Tensors are **NHWC** ([batch, height, width,
 * channels]) on the public API and inside; weights use Diffusers' names and are converted from
 * PyTorch's layout when loaded and back when saved. In this model `attention_head_dim` is the
 * size of one attention head (as in Diffusers).
 */
export class UNet2DModel extends UNet2DModelCommon<UNet2DOptions> {
  private constructor(options: UNet2DOptions, seed: number, unknownConfig: ConfigJson) {
    super(FAMILY, resolveUNet2DSpec(options), options, seed, unknownConfig);
  }

  /**
   * Builds a randomly initialised model (PyTorch's default initialisation, seeded) from a
   * Diffusers config (snake_case) or our options (camelCase); missing keys take Diffusers' defaults.
   */
  static fromConfig(config: ConfigJson | Partial<UNet2DOptions>, options: FromConfigOptions = {}): UNet2DModel {
    return UNet2DModelCommon.buildFromConfig(FAMILY, config, options, (...args) => new UNet2DModel(...args));
  }

  /**
   * Loads `config.json` and `diffusion_pytorch_model.safetensors` (F32, F16 or BF16) from a local
   * folder or an http(s) base URL. Missing or mis-shaped weights throw a `WeightsError` listing
   * the names; unused weights and unknown config keys are reported through `onWarning`.
   */
  static async fromPretrained(source: string | PretrainedSource, options: FromPretrainedOptions = {}): Promise<UNet2DModel> {
    return UNetModelBase.loadPretrained(source, options, FAMILY.className, (config, { onWarning, budget }) =>
      UNet2DModel.fromConfig(config, { onWarning, budget }),
    );
  }

  /**
   * Predicts from `sample` [B, H, W, inChannels] (NHWC) at `timestep` (a number for the whole
   * batch, or a [B] tensor) the model output [B, H, W, outChannels] (NHWC). Runs in `tf.tidy`.
   */
  predict(sample: tf.Tensor4D, timestep: number | tf.Tensor1D, conditioning: UNet2DConditioning = {}): tf.Tensor4D {
    const batch = this.checkSample(sample);
    const { classLabels } = conditioning;
    this.checkClassLabels(classLabels, batch);
    return this.applyBody(sample, timestep, batch, { classLabels });
  }
}
