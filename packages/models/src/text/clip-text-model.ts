import type * as tf from '@tensorflow/tfjs-core';
import type { ConfigJson, PretrainedSource } from '@diffusion-ts/core';
import { Linear } from '../layers/linear.js';
import type { FromConfigOptions, ModelFamily } from '../model-config.js';
import { ModelMixin } from '../model-mixin.js';
import { TRANSFORMERS_WEIGHTS_NAME, type FromPretrainedOptions } from '../pretrained-io.js';
import {
  CLIP_TEXT_DEFAULTS,
  CLIP_TEXT_SCHEMA,
  parseCLIPTextConfig,
  validateCLIPTextOptions,
  type CLIPTextOptions,
} from './clip-text-config.js';
import { estimateCLIPTextConfig } from './clip-text-size.js';
import { CLIPTextTransformer, type CLIPTextModelOutput } from './clip-text-transformer.js';
import { checkCLIPWeightsAgainstConfig, withoutIgnoredBuffers } from './clip-weights-check.js';

/** Options of `encode`. */
export interface CLIPTextEncodeOptions {
  /** Mask of the shape of the ids: 1 for tokens, 0 for padding no token may attend to (on top of the causal mask). */
  attentionMask?: tf.Tensor2D;
  /** Also return the embeddings and every layer's output (for "clip skip"). Default false. */
  outputHiddenStates?: boolean;
}

/** `CLIPTextModelWithProjection.encode`'s result; the caller owns (and disposes) every tensor. */
export interface CLIPTextModelWithProjectionOutput extends CLIPTextModelOutput {
  /** `poolerOutput` through `text_projection` [B, projectionDim]. */
  textEmbeds: tf.Tensor2D;
}

/**
 * The family of a CLIP text model in transformers' layout: `config.json` without `_class_name`
 * (a `CLIPTextConfig` or a full `CLIPConfig`), `model.safetensors`, and the weights checked
 * against the config by the sizes they imply before the model is built.
 */
function clipTextFamily(className: string, withProjection: boolean): ModelFamily<CLIPTextOptions> {
  return {
    className,
    schema: CLIP_TEXT_SCHEMA,
    defaults: CLIP_TEXT_DEFAULTS,
    validate: (options) => validateCLIPTextOptions(options, className),
    weightsName: TRANSFORMERS_WEIGHTS_NAME,
    parse: (config) => parseCLIPTextConfig(config, className),
    estimateSize: (options) => estimateCLIPTextConfig(options, withProjection),
    prepareWeights: (tensors, options, source) => {
      const used = withoutIgnoredBuffers(tensors);
      checkCLIPWeightsAgainstConfig(used, options, withProjection, source);
      return used;
    },
  };
}

const TEXT_MODEL = clipTextFamily('CLIPTextModel', false);
const TEXT_MODEL_WITH_PROJECTION = clipTextFamily('CLIPTextModelWithProjection', true);

/**
 * What both CLIP text models share on top of `ModelMixin`: the transformer under `text_model.`,
 * weights in transformers' names, and transformers' `config.json` (`save()` writes `config.json` +
 * `model.safetensors`, the layout transformers' `from_pretrained` and a Diffusers pipeline's
 * `text_encoder/` read). Loading checks the weights against the config before anything is
 * allocated (a `WeightsError` naming the config key) and ignores the `position_ids` buffer, as
 * transformers does.
 */
export abstract class CLIPTextModelBase extends ModelMixin<CLIPTextOptions> {
  /** transformers' `text_model`: embeddings, encoder layers, `final_layer_norm`. */
  protected readonly textModel: CLIPTextTransformer;

  /** `seed: null` leaves the variables at zero for weights about to be loaded. */
  protected constructor(family: ModelFamily<CLIPTextOptions>, options: CLIPTextOptions, seed: number | null, unknownConfig: ConfigJson) {
    super(family, options, seed, unknownConfig);
    this.textModel = this.buildModules((scope) => new CLIPTextTransformer(scope.child('text_model'), options, family.className));
  }

  /** transformers' `config.json` for this model (`architectures`, `model_type`, every option; keys sorted on save). */
  override toConfig(): ConfigJson {
    // serializeConfig remembers which keys hold floats; keep its object so they are written as 0.0.
    const json = super.toConfig();
    delete json._class_name;
    delete json._diffusers_version;
    json.architectures = [this.className];
    json.model_type = 'clip_text_model';
    json.torch_dtype = 'float32';
    if ('dtype' in json) json.dtype = 'float32';
    return json;
  }

  /**
   * `final_layer_norm` applied to one of `hiddenStates`: Diffusers' "clip skip" uses
   * `applyFinalLayerNorm(hiddenStates[hiddenStates.length - 1 - clipSkip])`.
   */
  applyFinalLayerNorm(hiddenState: tf.Tensor3D): tf.Tensor3D {
    return this.textModel.finalLayerNorm.apply(hiddenState);
  }
}

/**
 * transformers' `CLIPTextModel`, the text encoder of Stable Diffusion 1.x and 2.x: token ids
 * [B, S] -> `lastHiddenState` [B, S, D] (the UNet's `encoderHiddenStates`) and `poolerOutput`
 * [B, D] at the end-of-text token. Loads and saves transformers' layout (`config.json` +
 * `model.safetensors`).
 */
export class CLIPTextModel extends CLIPTextModelBase {
  private constructor(options: CLIPTextOptions, seed: number | null, unknownConfig: ConfigJson) {
    super(TEXT_MODEL, options, seed, unknownConfig);
  }

  /** Builds a randomly initialised model (PyTorch's per-layer defaults, seeded) from a config or options. */
  static fromConfig(config: ConfigJson | Partial<CLIPTextOptions>, options: FromConfigOptions = {}): CLIPTextModel {
    return ModelMixin.buildFromConfig(TEXT_MODEL, config, options, (...args) => new CLIPTextModel(...args));
  }

  /**
   * Loads `config.json` and `model.safetensors` from a folder or http(s) URL (`subfolder:
   * 'text_encoder'` in a Diffusers pipeline folder; `variant: 'fp16'` for `model.fp16.safetensors`).
   * A config that does not fit the weights, and missing or mis-shaped weights, throw a
   * `WeightsError`; unused weights (a projection, a vision tower) are reported through `onWarning`
   * (errors with `strict`).
   */
  static async fromPretrained(source: string | PretrainedSource, options: FromPretrainedOptions = {}): Promise<CLIPTextModel> {
    return ModelMixin.loadPretrained(TEXT_MODEL, source, options, (...args) => new CLIPTextModel(...args));
  }

  /**
   * Encodes token ids [B, S] (int32, S <= maxPositionEmbeddings, every id in the vocabulary; a
   * `TextInputError` otherwise).
   */
  encode(inputIds: tf.Tensor2D, options: CLIPTextEncodeOptions = {}): CLIPTextModelOutput {
    return this.textModel.apply(inputIds, options.attentionMask, options.outputHiddenStates ?? false);
  }
}

/**
 * transformers' `CLIPTextModelWithProjection` (SDXL's second text encoder): `CLIPTextModel` plus
 * `text_projection` (no bias), giving `textEmbeds` [B, projectionDim] from the pooled state.
 */
export class CLIPTextModelWithProjection extends CLIPTextModelBase {
  /** `text_projection`: hidden size -> projection_dim, without bias. */
  protected readonly textProjection: Linear;

  private constructor(options: CLIPTextOptions, seed: number | null, unknownConfig: ConfigJson) {
    super(TEXT_MODEL_WITH_PROJECTION, options, seed, unknownConfig);
    this.textProjection = this.buildModules(
      (scope) => new Linear(scope.child('text_projection'), options.hiddenSize, options.projectionDim, false),
    );
  }

  /** Builds a randomly initialised model (PyTorch's per-layer defaults, seeded) from a config or options. */
  static fromConfig(config: ConfigJson | Partial<CLIPTextOptions>, options: FromConfigOptions = {}): CLIPTextModelWithProjection {
    return ModelMixin.buildFromConfig(TEXT_MODEL_WITH_PROJECTION, config, options, (...args) => new CLIPTextModelWithProjection(...args));
  }

  /**
   * Loads `config.json` and `model.safetensors` from a folder or http(s) URL (`subfolder`,
   * `variant` as for `CLIPTextModel`); the weights must include `text_projection.weight`.
   */
  static async fromPretrained(
    source: string | PretrainedSource,
    options: FromPretrainedOptions = {},
  ): Promise<CLIPTextModelWithProjection> {
    return ModelMixin.loadPretrained(TEXT_MODEL_WITH_PROJECTION, source, options, (...args) => new CLIPTextModelWithProjection(...args));
  }

  /** Encodes token ids [B, S] as `CLIPTextModel.encode` does, adding `textEmbeds`. */
  encode(inputIds: tf.Tensor2D, options: CLIPTextEncodeOptions = {}): CLIPTextModelWithProjectionOutput {
    const output = this.textModel.apply(inputIds, options.attentionMask, options.outputHiddenStates ?? false);
    const textEmbeds = this.textProjection.apply(output.poolerOutput);
    return { ...output, textEmbeds };
  }
}
