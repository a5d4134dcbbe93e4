import type * as tf from '@tensorflow/tfjs-core';
import type { ConfigJson, PretrainedSource } from '@diffusion-ts/core';
import type { FromConfigOptions, ModelFamily } from './model-config.js';
import { ModelMixin } from './model-mixin.js';
import type { FromPretrainedOptions } from './pretrained-io.js';
import { validateClassLabels, validateSample } from './sample-checks.js';
import {
  UNET_2D_CONDITION_DEFAULTS,
  UNET_2D_CONDITION_SCHEMA,
  validateUNet2DConditionOptions,
  type UNet2DConditionOptions,
} from './unet-2d-condition-config.js';
import { resolveUNet2DConditionSpec } from './unet-2d-condition-spec.js';
import { estimateUNetAt, estimateUNetConfig, type UNetEstimateSize } from './budget/unet-size.js';
import type { ModelSizeEstimate } from './budget/model-budget.js';
import { UNetBody, type UNetBodySpec } from './unet-body.js';

/** Conditioning of `UNet2DConditionModel.predict`. */
export interface UNet2DConditionConditioning {
  /** Cross-attention context [B, S, crossAttentionDim] (e.g. text-encoder states); required. */
  encoderHiddenStates?: tf.Tensor3D;
  /** Class ids [B] for models with a class embedding. */
  classLabels?: tf.Tensor1D;
}

const FAMILY: ModelFamily<UNet2DConditionOptions> = {
  className: 'UNet2DConditionModel',
  schema: UNET_2D_CONDITION_SCHEMA,
  defaults: UNET_2D_CONDITION_DEFAULTS,
  validate: validateUNet2DConditionOptions,
  // The layout is walked (structure checked, size estimated) before any weight is allocated.
  estimateSize: (options) => estimateUNetConfig(resolveUNet2DConditionSpec(options), options.sampleSize, 'UNet2DConditionModel'),
};
const CLASS_NAME = FAMILY.className;

/** The distinct `cross_attention_dim`s of the blocks that attend to the context. */
function crossAttentionDimsOf(spec: UNetBodySpec): number[] {
  const dims = new Set<number>();
  spec.down.forEach(({ type, spec: blockSpec }) => type === 'CrossAttnDownBlock2D' && dims.add(blockSpec.crossAttentionDim ?? 0));
  spec.up.forEach(({ type, spec: blockSpec }) => type === 'CrossAttnUpBlock2D' && dims.add(blockSpec.crossAttentionDim ?? 0));
  if (spec.mid?.type === 'UNetMidBlock2DCrossAttn') dims.add(spec.mid.spec.crossAttentionDim ?? 0);
  return [...dims];
}

/**
 * Diffusers' `UNet2DConditionModel`: a UNet whose `CrossAttn*` blocks attend to
 * `encoderHiddenStates` [B, S, D], with optional class conditioning. Tensors are **NHWC** on the
 * public API and inside. Diffusers' quirk is kept: here `attention_head_dim` is the number of
 * heads (unless `num_attention_heads` is set).
 */
export class UNet2DConditionModel extends ModelMixin<UNet2DConditionOptions> {
  private readonly body: UNetBody;
  private readonly crossAttentionDims: number[];

  private constructor(options: UNet2DConditionOptions, seed: number | null, unknownConfig: ConfigJson) {
    const spec = resolveUNet2DConditionSpec(options);
    super(FAMILY, options, seed, unknownConfig);
    this.body = this.buildModules((scope) => new UNetBody(scope, spec));
    this.crossAttentionDims = crossAttentionDimsOf(spec);
  }

  /** Builds a randomly initialised model (PyTorch's default initialisation, seeded) from a config. */
  static fromConfig(config: ConfigJson | Partial<UNet2DConditionOptions>, options: FromConfigOptions = {}): UNet2DConditionModel {
    return ModelMixin.buildFromConfig(FAMILY, config, options, (...args) => new UNet2DConditionModel(...args));
  }

  /**
   * Loads `config.json` and `diffusion_pytorch_model.safetensors` from a folder or URL (use
   * `subfolder: 'unet'` for a pipeline folder). Missing or mis-shaped weights throw a
   * `WeightsError` listing the names; unused weights are reported through `onWarning`.
   */
  static async fromPretrained(source: string | PretrainedSource, options: FromPretrainedOptions = {}): Promise<UNet2DConditionModel> {
    return ModelMixin.loadPretrained(FAMILY, source, options, (...args) => new UNet2DConditionModel(...args));
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
   * Predicts from `sample` [B, H, W, inChannels] (NHWC) at `timestep` (a number or a [B] tensor),
   * attending to `conditioning.encoderHiddenStates` [B, S, D], the output [B, H, W, outChannels].
   */
  predict(sample: tf.Tensor4D, timestep: number | tf.Tensor1D, conditioning: UNet2DConditionConditioning = {}): tf.Tensor4D {
    validateSample(sample, this.config.inChannels, this.body.downsampleCount, CLASS_NAME);
    const batch = sample.shape[0];
    const { encoderHiddenStates, classLabels } = conditioning;
    if (this.body.hasCrossAttention) this.checkEncoderHiddenStates(encoderHiddenStates, batch);
    validateClassLabels(classLabels, batch, this.body.hasClassEmbedding, CLASS_NAME);
    return this.body.run(
      sample,
      timestep,
      { classLabels, encoderHiddenStates: this.body.hasCrossAttention ? encoderHiddenStates : undefined },
      this.training,
      CLASS_NAME,
    );
  }

  /** Checks that the cross-attention context is [batch, S, cross_attention_dim]. */
  private checkEncoderHiddenStates(states: tf.Tensor3D | undefined, batch: number): asserts states is tf.Tensor3D {
    if (!states) throw new Error(`${CLASS_NAME}: encoderHiddenStates [B, S, D] are required by the cross-attention blocks`);
    if (states.rank !== 3 || states.shape[0] !== batch) {
      throw new Error(`${CLASS_NAME}: encoderHiddenStates must have shape [${batch}, S, D], got [${states.shape.join(', ')}]`);
    }
    const width = states.shape[2];
    const wrong = this.crossAttentionDims.find((dim) => dim !== width);
    if (wrong !== undefined)
      throw new Error(`${CLASS_NAME}: encoderHiddenStates have last dimension ${width} but cross_attention_dim is ${wrong}`);
  }
}
