import * as tf from '@tensorflow/tfjs-core';
import { serializeConfig, type ConfigJson, type PretrainedSource } from '@diffusion-ts/core';
import { UNetModelBase } from './model-base.js';
import { ParameterStore } from './parameters/parameter-store.js';
import type { FromPretrainedOptions } from './pretrained-io.js';
import { validateSample } from './sample-checks.js';
import { batchTimesteps } from './timestep-input.js';
import { UNET_2D_DEFAULTS, UNET_2D_SCHEMA, validateUNet2DOptions, type UNet2DOptions } from './unet-2d-config.js';
import { resolveUNet2DSpec } from './unet-2d-spec.js';
import { UNetBody } from './unet-body.js';

/** Options of `fromConfig`. */
export interface FromConfigOptions {
  /** Seed of the random initialisation (default 0). */
  seed?: number;
  /** Receives config warnings (unknown keys). Default: `console.warn`. */
  onWarning?: (message: string) => void;
}

/** Conditioning of `UNet2DModel.predict`. */
export interface UNet2DConditioning {
  /** Class ids [B] for class-conditional models (`num_class_embeds` or `class_embed_type: "timestep"`). */
  classLabels?: tf.Tensor1D;
}

const CLASS_NAME = 'UNet2DModel';

/**
 * Diffusers' `UNet2DModel`: an unconditional (or class-conditional) UNet that maps a noisy sample
 * and a timestep to a sample of the same shape. Tensors are **NHWC** ([batch, height, width,
 * channels]) on the public API and inside; weights use Diffusers' names and are converted from
 * PyTorch's layout when loaded and back when saved. In this model `attention_head_dim` is the
 * size of one attention head (as in Diffusers).
 */
export class UNet2DModel extends UNetModelBase {
  /** The resolved options (camelCase). */
  readonly config: Readonly<UNet2DOptions>;
  private readonly unknownConfig: ConfigJson;

  private constructor(options: UNet2DOptions, seed: number, unknownConfig: ConfigJson) {
    const store = new ParameterStore(seed);
    let body: UNetBody;
    try {
      body = new UNetBody(store.scope(), resolveUNet2DSpec(options));
    } catch (error) {
      store.dispose();
      throw error;
    }
    super(store, body);
    this.config = Object.freeze({ ...options });
    this.unknownConfig = unknownConfig;
  }

  /**
   * Builds a randomly initialised model (PyTorch's default initialisation, seeded) from a
   * Diffusers config (snake_case) or our options (camelCase); missing keys take Diffusers' defaults.
   */
  static fromConfig(config: ConfigJson | Partial<UNet2DOptions>, options: FromConfigOptions = {}): UNet2DModel {
    const parsed = UNetModelBase.parseModelConfig(config, UNET_2D_SCHEMA, UNET_2D_DEFAULTS, CLASS_NAME);
    const model = new UNet2DModel(validateUNet2DOptions(parsed.options), options.seed ?? 0, parsed.unknown);
    model.recordWarnings(parsed.warnings, options.onWarning);
    return model;
  }

  /**
   * Loads `config.json` and `diffusion_pytorch_model.safetensors` (F32, F16 or BF16) from a local
   * folder or an http(s) base URL. Missing or mis-shaped weights throw a `WeightsError` listing
   * the names; unused weights and unknown config keys are reported through `onWarning`.
   */
  static async fromPretrained(source: string | PretrainedSource, options: FromPretrainedOptions = {}): Promise<UNet2DModel> {
    return UNetModelBase.loadPretrained(source, options, CLASS_NAME, (config, onWarning) => UNet2DModel.fromConfig(config, { onWarning }));
  }

  /** The Diffusers config: `_class_name`, `_diffusers_version`, then every key (sorted). */
  toConfig(): ConfigJson {
    return serializeConfig(this.config, UNET_2D_SCHEMA, CLASS_NAME, this.unknownConfig);
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
    const batch = sample.shape[0];
    const { classLabels } = conditioning;
    if (this.body.hasClassEmbedding && !classLabels) {
      throw new Error(`${CLASS_NAME}: classLabels are required by this class-conditional model`);
    }
    if (!this.body.hasClassEmbedding && classLabels) {
      throw new Error(`${CLASS_NAME}: classLabels were given but the model has no class embedding (num_class_embeds / class_embed_type)`);
    }
    if (classLabels && (classLabels.rank !== 1 || classLabels.shape[0] !== batch)) {
      throw new Error(`${CLASS_NAME}: classLabels must have shape [${batch}], got [${classLabels.shape.join(', ')}]`);
    }
    return tf.tidy(() =>
      this.body.apply({
        sample,
        timesteps: batchTimesteps(timestep, batch, CLASS_NAME),
        classLabels,
        training: this.training,
      }),
    );
  }
}
