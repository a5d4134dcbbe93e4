import { ConfigError, parseConfig, type ConfigJson, type ConfigSchema, type ConfigValue, type ParsedConfig } from '@diffusion-ts/core';
import { configFailure } from '../model-config.js';
import { MODEL_RANGES } from '../model-ranges.js';

/** The `hidden_act` values of transformers' `ACT2FN` that the CLIP text model implements. */
export const CLIP_TEXT_ACTIVATIONS = ['quick_gelu', 'gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu', 'silu', 'swish'] as const;

/** A CLIP text encoder activation (`hidden_act`). */
export type CLIPTextActivation = (typeof CLIP_TEXT_ACTIVATIONS)[number];

/**
 * `CLIPTextModel` options: transformers' `CLIPTextConfig` keys in camelCase, with its defaults
 * (the text tower of `openai/clip-vit-base-patch32`).
 */
export interface CLIPTextOptions {
  attentionDropout: number;
  /** Id of `<|startoftext|>` (informational). */
  bosTokenId: number;
  /** Dropout after attention and MLP in old configs (transformers ignores it). */
  dropout: number;
  /**
   * Id the pooled output is taken at. `2` marks configs saved before transformers' PR #24773
   * (SD 1.x, SD 2.x): there the pooled token is the argmax of the ids, as OpenAI's CLIP does;
   * otherwise it is the first position holding `eosTokenId`.
   */
  eosTokenId: number;
  hiddenAct: CLIPTextActivation;
  hiddenSize: number;
  initializerFactor: number;
  initializerRange: number;
  intermediateSize: number;
  layerNormEps: number;
  /** The longest input the position table covers (77 for CLIP). */
  maxPositionEmbeddings: number;
  numAttentionHeads: number;
  numHiddenLayers: number;
  /** Id transformers' config names for padding (informational; the tokenizer decides the padding). */
  padTokenId: number;
  /** Width of `text_projection` (`CLIPTextModelWithProjection`). */
  projectionDim: number;
  vocabSize: number;
}

/** transformers' `CLIPTextConfig` defaults (keys in sorted order, the order `toConfig()` writes). */
export const CLIP_TEXT_DEFAULTS: CLIPTextOptions = {
  attentionDropout: 0,
  bosTokenId: 49406,
  dropout: 0,
  eosTokenId: 49407,
  hiddenAct: 'quick_gelu',
  hiddenSize: 512,
  initializerFactor: 1,
  initializerRange: 0.02,
  intermediateSize: 2048,
  layerNormEps: 1e-5,
  maxPositionEmbeddings: 77,
  numAttentionHeads: 8,
  numHiddenLayers: 12,
  padTokenId: 1,
  projectionDim: 512,
  vocabSize: 49408,
};

/** The schema of `CLIPTextOptions` (snake_case on disk). */
export const CLIP_TEXT_SCHEMA: ConfigSchema<CLIPTextOptions> = {
  attentionDropout: { kind: 'number', range: MODEL_RANGES.dropout },
  bosTokenId: { kind: 'integer' },
  dropout: { kind: 'number', range: MODEL_RANGES.dropout },
  eosTokenId: { kind: 'integer' },
  hiddenAct: { kind: 'string', values: CLIP_TEXT_ACTIVATIONS },
  hiddenSize: { kind: 'integer', range: MODEL_RANGES.channels },
  initializerFactor: { kind: 'number' },
  initializerRange: { kind: 'number' },
  intermediateSize: { kind: 'integer', range: MODEL_RANGES.mlpWidth },
  layerNormEps: { kind: 'number', range: MODEL_RANGES.eps },
  maxPositionEmbeddings: { kind: 'integer', range: MODEL_RANGES.positions },
  numAttentionHeads: { kind: 'integer', range: MODEL_RANGES.heads },
  numHiddenLayers: { kind: 'integer', range: MODEL_RANGES.textLayers },
  padTokenId: { kind: 'integer' },
  projectionDim: { kind: 'integer', range: MODEL_RANGES.channels },
  vocabSize: { kind: 'integer', range: { min: 1 } },
};

/**
 * Keys every transformers `PretrainedConfig` may write (generation settings, labels, output
 * switches, bookkeeping). They do not change the text encoder: accepted without a warning and
 * written back unchanged.
 */
const PRETRAINED_CONFIG_KEYS = new Set([
  'add_cross_attention',
  'architectures',
  'bad_words_ids',
  'begin_suppress_tokens',
  'chunk_size_feed_forward',
  'cross_attention_hidden_size',
  'decoder_start_token_id',
  'diversity_penalty',
  'do_sample',
  'dtype',
  'early_stopping',
  'encoder_no_repeat_ngram_size',
  'exponential_decay_length_penalty',
  'finetuning_task',
  'forced_bos_token_id',
  'forced_eos_token_id',
  'id2label',
  'is_decoder',
  'is_encoder_decoder',
  'label2id',
  'length_penalty',
  'max_length',
  'min_length',
  'model_type',
  'no_repeat_ngram_size',
  'num_beam_groups',
  'num_beams',
  'num_return_sequences',
  'output_attentions',
  'output_hidden_states',
  'output_scores',
  'prefix',
  'problem_type',
  'pruned_heads',
  'remove_invalid_values',
  'repetition_penalty',
  'return_dict',
  'return_dict_in_generate',
  'sep_token_id',
  'suppress_tokens',
  'task_specific_params',
  'temperature',
  'tf_legacy_loss',
  'tie_encoder_decoder',
  'tie_word_embeddings',
  'tokenizer_class',
  'top_k',
  'top_p',
  'torch_dtype',
  'torchscript',
  'transformers_version',
  'typical_p',
  'use_bfloat16',
]);

/**
 * Parses a transformers `config.json` for the CLIP text tower: a `CLIPTextConfig`, or a full
 * `CLIPConfig` (`model_type: "clip"`) whose `text_config` is used, as transformers does. The keys
 * every transformers config carries go to `unknown` without a warning (`save()` writes them
 * back); other unknown keys become warnings too; wrong types throw a `ConfigError` naming the key.
 * Sizes are checked by `validateCLIPTextOptions`.
 */
export function parseCLIPTextConfig(config: ConfigJson | Partial<CLIPTextOptions>, context: string): ParsedConfig<CLIPTextOptions> {
  let json = config as Record<string, unknown>;
  if (json !== null && typeof json === 'object' && json.model_type === 'clip') {
    const text = json.text_config;
    if (text === null || typeof text !== 'object' || Array.isArray(text)) {
      throw new ConfigError(`${context}: a CLIPConfig (model_type "clip") needs a text_config object`, 'text_config');
    }
    json = text as Record<string, unknown>;
  }
  const passthrough: ConfigJson = {};
  const filtered: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json ?? {})) {
    if (PRETRAINED_CONFIG_KEYS.has(key)) passthrough[key] = value as ConfigValue;
    else filtered[key] = value;
  }
  const parsed = parseConfig(filtered, CLIP_TEXT_SCHEMA, CLIP_TEXT_DEFAULTS, context);
  return { ...parsed, unknown: { ...passthrough, ...parsed.unknown } };
}

/**
 * Checks what the schema's ranges cannot (heads dividing the width, a token table that fits one
 * tensor); returns the options. The size as a whole is held to the model budget afterwards.
 */
export function validateCLIPTextOptions(options: CLIPTextOptions, context: string): CLIPTextOptions {
  const fail = configFailure(context);
  if (options.hiddenSize % options.numAttentionHeads !== 0) {
    fail('hidden_size', `(${options.hiddenSize}) must be divisible by num_attention_heads (${options.numAttentionHeads})`);
  }
  // Embedding tables are allocated from these: refuse absurd sizes before any allocation.
  const tableElements = options.vocabSize * options.hiddenSize;
  if (tableElements > 2 ** 31 - 1)
    fail('vocab_size', `x hidden_size (${options.vocabSize} x ${options.hiddenSize}) is too large for one tensor`);
  return options;
}
