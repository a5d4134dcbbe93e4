import * as tf from '@tensorflow/tfjs-core';
import { serializeConfig, type ConfigJson, type PretrainedSource } from '@diffusion-ts/core';
import { UNetModelBase } from './model-base.js';
import { ParameterStore } from './parameters/parameter-store.js';
import type { FromPretrainedOptions } from './pretrained-io.js';
import { validateSample } from './sample-checks.js';
import { batchTimesteps } from './timestep-input.js';
import type { FromConfigOptions } from './unet-2d.js';
import {
  UNET_2D_CONDITION_DEFAULTS,
  UNET_2D_CONDITION_SCHEMA,
  validateUNet2DConditionOptions,
  type UNet2DConditionOptions,
} from './unet-2d-condition-config.js';
import { resolveUNet2DConditionSpec } from './unet-2d-condition-spec.js';
import { UNetBody } from './unet-body.js';

/** Conditioning of `UNet2DConditionModel.predict`. */
export interface UNet2DConditionConditioning {
  /** Cross-attention context [B, S, crossAttentionDim] (e.g. text-encoder states); required. */
  encoderHiddenStates?: tf.Tensor3D;
  /** Class ids [B] for models with a class embedding. */
  classLabels?: tf.Tensor1D;
}

const CLASS_NAME = 'UNet2DConditionModel';

/**
 * Diffusers' `UNet2DConditionModel`: a UNet whose `CrossAttn*` blocks attend to
 * `encoderHiddenStates` [B, S, D], with optional class conditioning. Tensors are **NHWC** on the
 * public API and inside. Diffusers' quirk is kept: here `attention_head_dim` is the number of
 * heads (unless `num_attention_heads` is set).
 */
export class UNet2DConditionModel extends UNetModelBase {
  /** The resolved options (camelCase). */
  readonly config: Readonly<UNet2DConditionOptions>;
  private readonly unknownConfig: ConfigJson;
  private readonly crossAttentionDims: number[];

  private constructor(options: UNet2DConditionOptions, seed: number, unknownConfig: ConfigJson) {
    const store = new ParameterStore(seed);
    const spec = resolveUNet2DConditionSpec(options);
    let body: UNetBody;
    try {
      body = new UNetBody(store.scope(), spec);
    } catch (error) {
      store.dispose();
      throw error;
    }
    super(store, body);
    this.config = Object.freeze({ ...options });
    this.unknownConfig = unknownConfig;
    const dims = new Set<number>();
    spec.down.forEach(({ type, spec: blockSpec }) => type === 'CrossAttnDownBlock2D' && dims.add(blockSpec.crossAttentionDim ?? 0));
    spec.up.forEach(({ type, spec: blockSpec }) => type === 'CrossAttnUpBlock2D' && dims.add(blockSpec.crossAttentionDim ?? 0));
    if (spec.mid?.type === 'UNetMidBlock2DCrossAttn') dims.add(spec.mid.spec.crossAttentionDim ?? 0);
    this.crossAttentionDims = [...dims];
  }

  /** Builds a randomly initialised model (PyTorch's default initialisation, seeded) from a config. */
  static fromConfig(config: ConfigJson | Partial<UNet2DConditionOptions>, options: FromConfigOptions = {}): UNet2DConditionModel {
    const parsed = UNetModelBase.parseModelConfig(config, UNET_2D_CONDITION_SCHEMA, UNET_2D_CONDITION_DEFAULTS, CLASS_NAME);
    const model = new UNet2DConditionModel(validateUNet2DConditionOptions(parsed.options), options.seed ?? 0, parsed.unknown);
    model.recordWarnings(parsed.warnings, options.onWarning);
    return model;
  }

  /**
   * Loads `config.json` and `diffusion_pytorch_model.safetensors` from a folder or URL (use
   * `subfolder: 'unet'` for a pipeline folder). Missing or mis-shaped weights throw a
   * `WeightsError` listing the names; unused weights are reported through `onWarning`.
   */
  static async fromPretrained(source: string | PretrainedSource, options: FromPretrainedOptions = {}): Promise<UNet2DConditionModel> {
    return UNetModelBase.loadPretrained(source, options, CLASS_NAME, (config, onWarning) => UNet2DConditionModel.fromConfig(config, { onWarning }));
  }

  /** The Diffusers config: `_class_name`, `_diffusers_version`, then every key (sorted). */
  toConfig(): ConfigJson {
    return serializeConfig(this.config, UNET_2D_CONDITION_SCHEMA, CLASS_NAME, this.unknownConfig);
  }

  /** The number of stride-2 downsamples; H and W must be multiples of 2 to this power. */
  get downsampleCount(): number {
    return this.body.downsampleCount;
  }

  /**
   * Predicts from `sample` [B, H, W, inChannels] (NHWC) at `timestep` (a number or a [B] tensor),
   * attending to `conditioning.encoderHiddenStates` [B, S, D], the output [B, H, W, outChannels].
   */
  predict(sample: tf.Tensor4D, timestep: number | tf.Tensor1D, conditioning: UNet2DConditionConditioning = {}): tf.Tensor4D {
    validateSample(sample, this.config.inChannels, this.body.downsampleCount, CLASS_NAME);
    const batch = sample.shape[0];
    const { encoderHiddenStates, classLabels } = conditioning;
    if (this.body.hasCrossAttention) {
      if (!encoderHiddenStates) throw new Error(`${CLASS_NAME}: encoderHiddenStates [B, S, D] are required by the cross-attention blocks`);
      if (encoderHiddenStates.rank !== 3 || encoderHiddenStates.shape[0] !== batch) {
        throw new Error(`${CLASS_NAME}: encoderHiddenStates must have shape [${batch}, S, D], got [${encoderHiddenStates.shape.join(', ')}]`);
      }
      const width = encoderHiddenStates.shape[2];
      const wrong = this.crossAttentionDims.find((dim) => dim !== width);
      if (wrong !== undefined) {
        throw new Error(`${CLASS_NAME}: encoderHiddenStates have last dimension ${width} but cross_attention_dim is ${wrong}`);
      }
    }
    if (this.body.hasClassEmbedding && !classLabels) throw new Error(`${CLASS_NAME}: classLabels are required by this class-conditional model`);
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
        encoderHiddenStates: this.body.hasCrossAttention ? encoderHiddenStates : undefined,
        training: this.training,
      }),
    );
  }
}
