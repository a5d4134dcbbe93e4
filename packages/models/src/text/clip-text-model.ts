import * as tf from '@tensorflow/tfjs-core';
import { serializeConfig, type ConfigJson, type PretrainedSource } from '@diffusion-ts/core';
import { Linear } from '../layers/linear.js';
import { ModelBase } from '../model-base.js';
import { ParameterStore } from '../parameters/parameter-store.js';
import { importWeights, type ImportReport, type WeightTensor } from '../weights.js';
import { CLIP_TEXT_SCHEMA, parseCLIPTextConfig, type CLIPTextOptions, type ParsedCLIPTextConfig } from './clip-text-config.js';
import { CLIPTextTransformer, type CLIPTextTransformerOutput } from './clip-text-transformer.js';
import { checkCLIPWeightsAgainstConfig, withoutIgnoredBuffers } from './clip-weights-check.js';
import { readTransformersPretrained, writeTransformersPretrained, type TransformersFromPretrainedOptions } from './transformers-pretrained.js';

/** Options of `encode`. */
export interface CLIPTextEncodeOptions {
  /** [B, S]: 1 for tokens, 0 for padding the tokens must not attend to (on top of the causal mask). */
  attentionMask?: tf.Tensor2D;
  /** Also return the embeddings and every layer's output (for "clip skip"). Default false. */
  outputHiddenStates?: boolean;
}

/** `CLIPTextModel.encode`'s result; the caller owns (and disposes) every tensor. */
export type CLIPTextModelOutput = CLIPTextTransformerOutput;

/** `CLIPTextModelWithProjection.encode`'s result; the caller owns (and disposes) every tensor. */
export interface CLIPTextModelWithProjectionOutput extends CLIPTextTransformerOutput {
  /** `poolerOutput` through `text_projection` [B, projectionDim]. */
  textEmbeds: tf.Tensor2D;
}

/** Options of `fromConfig`. */
export interface CLIPTextFromConfigOptions {
  /** Seed of the random initial weights (core's `Generator`, the same on every backend). Default 0. */
  seed?: number;
  /** Receives each warning (unknown config keys). Default: `console.warn`. */
  onWarning?: (message: string) => void;
}

/** How many unused weight names a warning lists before it summarises. */
const LISTED_NAMES = 8;

/**
 * What both CLIP text models share on top of `ModelBase`: the transformer under `text_model.`,
 * weights in transformers' names, the config round trip and the transformers folder layout.
 */
abstract class CLIPTextModelBase extends ModelBase {
  /** The parsed config. */
  readonly options: CLIPTextOptions;
  /** transformers' `text_model`: embeddings, encoder layers, `final_layer_norm`. */
  readonly textModel: CLIPTextTransformer;
  private readonly passthrough: ConfigJson;

  /** `seed: null` leaves the variables at zero for weights about to be loaded. */
  protected constructor(
    readonly className: string,
    parsed: ParsedCLIPTextConfig,
    seed: number | null,
  ) {
    super(new ParameterStore(seed ?? 0, { initialize: seed !== null }));
    this.options = parsed.options;
    this.passthrough = parsed.passthrough;
    this.textModel = new CLIPTextTransformer(this.store.scope('text_model'), parsed.options, className);
  }

  /** transformers' `config.json` for this model (`architectures`, `model_type`, every option; keys sorted on save). */
  toConfig(): ConfigJson {
    // serializeConfig remembers which keys hold floats; keep its object so they are written as 0.0.
    const json = serializeConfig(this.options, CLIP_TEXT_SCHEMA, this.className, this.passthrough);
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

  /**
   * Assigns transformers-named tensors (PyTorch layout, F32/F16/BF16) to the parameters. A config
   * that does not fit the weights, and missing or mis-shaped weights (with `strict`, unused ones
   * too), throw a `WeightsError` naming them; the unused names are returned (`position_ids`
   * buffers are ignored, as transformers ignores them).
   */
  override loadWeights(tensors: Record<string, WeightTensor>, source = this.className, strict = false): ImportReport {
    const used = withoutIgnoredBuffers(tensors);
    checkCLIPWeightsAgainstConfig(used, this.options, this.store.get('text_projection.weight') !== undefined, source);
    return importWeights(this.store, used, source, strict);
  }

  /**
   * Writes `config.json` and `model.safetensors` into `folder` (created if needed, each file
   * written atomically), the layout transformers' `from_pretrained` and a Diffusers pipeline's
   * `text_encoder/` read.
   */
  override async save(folder: string): Promise<void> {
    await writeTransformersPretrained(folder, this.toConfig(), await this.exportWeights());
  }

  /**
   * Reads the folder, checks the weights against the config before anything is allocated, builds
   * the model with `build` and loads the weights (disposing the model when they do not fit).
   */
  protected static async load<M extends CLIPTextModelBase>(
    source: string | PretrainedSource,
    options: TransformersFromPretrainedOptions,
    className: string,
    withProjection: boolean,
    build: (parsed: ParsedCLIPTextConfig) => M,
  ): Promise<M> {
    const files = await readTransformersPretrained(source, options);
    const parsed = parseCLIPTextConfig(files.config, className);
    const tensors = withoutIgnoredBuffers(files.tensors);
    checkCLIPWeightsAgainstConfig(tensors, parsed.options, withProjection, files.location);
    const model = build(parsed);
    try {
      model.recordWarnings(parsed.warnings, options.onWarning);
      const { unexpected } = importWeights(model.store, tensors, files.location, options.strict);
      if (unexpected.length > 0) {
        const listed = unexpected.slice(0, LISTED_NAMES).join(', ');
        const more = unexpected.length > LISTED_NAMES ? ` and ${unexpected.length - LISTED_NAMES} more` : '';
        model.recordWarnings([`${files.location}: ${unexpected.length} weights are not used by ${className}: ${listed}${more}`], options.onWarning);
      }
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }
}

/**
 * transformers' `CLIPTextModel`, the text encoder of Stable Diffusion 1.x and 2.x: token ids
 * [B, S] -> `lastHiddenState` [B, S, D] (the UNet's `encoderHiddenStates`) and `poolerOutput`
 * [B, D] at the end-of-text token. Loads and saves transformers' layout (`config.json` +
 * `model.safetensors`).
 */
export class CLIPTextModel extends CLIPTextModelBase {
  private constructor(parsed: ParsedCLIPTextConfig, seed: number | null) {
    super('CLIPTextModel', parsed, seed);
  }

  /** Builds a randomly initialised model (PyTorch's per-layer defaults, seeded) from a config or options. */
  static fromConfig(config: ConfigJson | Partial<CLIPTextOptions>, options: CLIPTextFromConfigOptions = {}): CLIPTextModel {
    const parsed = parseCLIPTextConfig(config, 'CLIPTextModel');
    const model = new CLIPTextModel(parsed, options.seed ?? 0);
    model.recordWarnings(parsed.warnings, options.onWarning);
    return model;
  }

  /**
   * Loads `config.json` and `model.safetensors` from a folder or http(s) URL (`subfolder:
   * 'text_encoder'` in a Diffusers pipeline folder; `variant: 'fp16'` for `model.fp16.safetensors`).
   * A config that does not fit the weights, and missing or mis-shaped weights, throw a
   * `WeightsError`; unused weights (a projection, a vision tower) are reported through `onWarning`.
   */
  static async fromPretrained(source: string | PretrainedSource, options: TransformersFromPretrainedOptions = {}): Promise<CLIPTextModel> {
    return CLIPTextModelBase.load(source, options, 'CLIPTextModel', false, (parsed) => new CLIPTextModel(parsed, null));
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
  readonly textProjection: Linear;

  private constructor(parsed: ParsedCLIPTextConfig, seed: number | null) {
    super('CLIPTextModelWithProjection', parsed, seed);
    this.textProjection = new Linear(this.store.scope('text_projection'), parsed.options.hiddenSize, parsed.options.projectionDim, false);
  }

  /** Builds a randomly initialised model (PyTorch's per-layer defaults, seeded) from a config or options. */
  static fromConfig(config: ConfigJson | Partial<CLIPTextOptions>, options: CLIPTextFromConfigOptions = {}): CLIPTextModelWithProjection {
    const parsed = parseCLIPTextConfig(config, 'CLIPTextModelWithProjection');
    const model = new CLIPTextModelWithProjection(parsed, options.seed ?? 0);
    model.recordWarnings(parsed.warnings, options.onWarning);
    return model;
  }

  /**
   * Loads `config.json` and `model.safetensors` from a folder or http(s) URL (`subfolder`,
   * `variant` as for `CLIPTextModel`); the weights must include `text_projection.weight`.
   */
  static async fromPretrained(source: string | PretrainedSource, options: TransformersFromPretrainedOptions = {}): Promise<CLIPTextModelWithProjection> {
    return CLIPTextModelBase.load(source, options, 'CLIPTextModelWithProjection', true, (parsed) => new CLIPTextModelWithProjection(parsed, null));
  }

  /** Encodes token ids [B, S] as `CLIPTextModel.encode` does, adding `textEmbeds`. */
  encode(inputIds: tf.Tensor2D, options: CLIPTextEncodeOptions = {}): CLIPTextModelWithProjectionOutput {
    const output = this.textModel.apply(inputIds, options.attentionMask, options.outputHiddenStates ?? false);
    const textEmbeds = this.textProjection.apply(output.poolerOutput);
    return { ...output, textEmbeds };
  }
}
