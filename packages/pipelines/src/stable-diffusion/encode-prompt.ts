/**
 * Prompts to the UNet's `encoderHiddenStates`, as Diffusers' `encode_prompt`: the tokenizer pads
 * and truncates to 77, the text encoder's last hidden state (or, with clip skip k, the final layer
 * norm of the hidden state k layers before the last) is repeated `numImagesPerPrompt` times per
 * prompt; with guidance the negative prompts' states (never clip-skipped, as Diffusers) come first.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PromptEncoder } from './components.js';
import type { PromptTokenizer } from './prompt-tokenizer.js';

/** The prompt options of `generate`. */
export interface PromptOptions {
  /** The prompt, or one prompt per image group. Give this or `promptEmbeds`. */
  prompt?: string | string[];
  /** What to steer away from (with guidance): a string for one prompt, or one per prompt; default `''`. */
  negativePrompt?: string | string[];
  /** Precomputed text states [B, S, D] instead of `prompt` (the caller keeps ownership). */
  promptEmbeds?: tf.Tensor3D;
  /** Precomputed negative states, the shape of `promptEmbeds`, instead of `negativePrompt`. */
  negativePromptEmbeds?: tf.Tensor3D;
  /** Images per prompt (default 1). */
  numImagesPerPrompt?: number;
  /** Skip the last k text-encoder layers (1 = the penultimate layer's states, then the final layer norm). */
  clipSkip?: number;
}

/** What the prompt encoding needs from a pipeline. */
export interface PromptParts {
  tokenizer?: PromptTokenizer;
  textEncoder?: PromptEncoder;
}

/** The checked prompt inputs: the batch of prompts and the images per prompt. */
export interface PromptBatch {
  /** Prompts (or prompt-embedding rows). */
  batchSize: number;
  numImagesPerPrompt: number;
}

function describe(value: unknown): string {
  return Array.isArray(value) ? `a list of ${value.length}` : typeof value;
}

/**
 * Checks the prompt options as Diffusers' `check_inputs` and `encode_prompt` do, before anything
 * runs: exactly one of `prompt` and `promptEmbeds`, at most one of `negativePrompt` and
 * `negativePromptEmbeds`, matching kinds and lengths, equal embedding shapes, a text encoder and
 * tokenizer when text is given.
 */
export function checkPromptOptions(
  options: PromptOptions,
  parts: PromptParts,
  crossAttentionDims: readonly number[],
  context: string,
): PromptBatch {
  const { prompt, negativePrompt, promptEmbeds, negativePromptEmbeds, clipSkip } = options;
  const numImagesPerPrompt = options.numImagesPerPrompt ?? 1;
  if (!Number.isInteger(numImagesPerPrompt) || numImagesPerPrompt < 1) {
    throw new RangeError(`${context}: numImagesPerPrompt must be a positive integer, got ${String(numImagesPerPrompt)}`);
  }
  if (prompt !== undefined && promptEmbeds !== undefined) throw new TypeError(`${context}: give prompt or promptEmbeds, not both`);
  if (prompt === undefined && promptEmbeds === undefined) throw new TypeError(`${context}: give prompt or promptEmbeds`);
  if (negativePrompt !== undefined && negativePromptEmbeds !== undefined)
    throw new TypeError(`${context}: give negativePrompt or negativePromptEmbeds, not both`);
  if (clipSkip !== undefined && (!Number.isInteger(clipSkip) || clipSkip < 0))
    throw new RangeError(`${context}: clipSkip must be a non-negative integer, got ${String(clipSkip)}`);
  let batchSize: number;
  if (prompt !== undefined) {
    const list = typeof prompt === 'string' ? [prompt] : prompt;
    if (!Array.isArray(list) || list.length === 0 || list.some((text) => typeof text !== 'string')) {
      throw new TypeError(`${context}: prompt must be a string or a non-empty list of strings, got ${describe(prompt)}`);
    }
    batchSize = list.length;
    if (parts.tokenizer === undefined || parts.textEncoder === undefined) {
      throw new Error(
        `${context}: this pipeline has no ${parts.tokenizer === undefined ? 'tokenizer' : 'text encoder'}; pass promptEmbeds instead of prompt`,
      );
    }
    if (negativePrompt !== undefined && typeof negativePrompt !== typeof prompt) {
      throw new TypeError(
        `${context}: negativePrompt must be ${typeof prompt === 'string' ? 'a string' : 'a list'} like prompt, got ${describe(negativePrompt)}`,
      );
    }
    if (clipSkip !== undefined && parts.textEncoder !== undefined) checkClipSkip(parts.textEncoder, clipSkip, context);
  } else {
    checkEmbeds(promptEmbeds!, 'promptEmbeds', crossAttentionDims, context);
    batchSize = promptEmbeds!.shape[0];
  }
  if (Array.isArray(negativePrompt)) {
    if (negativePrompt.length !== batchSize) {
      throw new RangeError(`${context}: negativePrompt has ${negativePrompt.length} entries but there are ${batchSize} prompts`);
    }
    if (negativePrompt.some((text) => typeof text !== 'string')) throw new TypeError(`${context}: negativePrompt must hold strings`);
  } else if (negativePrompt !== undefined && typeof negativePrompt !== 'string') {
    throw new TypeError(`${context}: negativePrompt must be a string or a list of strings, got ${describe(negativePrompt)}`);
  }
  if (negativePromptEmbeds !== undefined) {
    checkEmbeds(negativePromptEmbeds, 'negativePromptEmbeds', crossAttentionDims, context);
    if (promptEmbeds !== undefined && negativePromptEmbeds.shape.join() !== promptEmbeds.shape.join()) {
      throw new RangeError(
        `${context}: promptEmbeds [${promptEmbeds.shape.join(', ')}] and negativePromptEmbeds [${negativePromptEmbeds.shape.join(', ')}] must have the same shape`,
      );
    }
    if (negativePromptEmbeds.shape[0] !== batchSize) {
      throw new RangeError(`${context}: negativePromptEmbeds has ${negativePromptEmbeds.shape[0]} rows but there are ${batchSize} prompts`);
    }
  }
  return { batchSize, numImagesPerPrompt };
}

function checkEmbeds(embeds: tf.Tensor3D, name: string, crossAttentionDims: readonly number[], context: string): void {
  if (!(embeds instanceof tf.Tensor) || embeds.rank !== 3) throw new TypeError(`${context}: ${name} must be a [B, S, D] tensor`);
  if (embeds.shape[0] < 1) throw new RangeError(`${context}: ${name} has no rows`);
  const wrong = crossAttentionDims.find((dim) => dim !== embeds.shape[2]);
  if (wrong !== undefined)
    throw new RangeError(`${context}: ${name} have width ${embeds.shape[2]} but the UNet's cross_attention_dim is ${wrong}`);
}

function checkClipSkip(textEncoder: PromptEncoder, clipSkip: number, context: string): void {
  const layers = textEncoder.config.numHiddenLayers;
  if (clipSkip >= layers) {
    throw new RangeError(`${context}: clipSkip ${clipSkip} skips every one of the text encoder's ${layers} layers`);
  }
}

/** Each row repeated `times` times in a row: [B, S, D] -> [B * times, S, D] (Diffusers' `repeat` + `view`). */
export function repeatRows(embeds: tf.Tensor3D, times: number): tf.Tensor3D {
  if (times === 1) return tf.clone(embeds);
  return tf.tidy(() => {
    const [batch, length, width] = embeds.shape;
    return tf.reshape(tf.tile(tf.expandDims(embeds, 1), [1, times, 1, 1]), [batch * times, length, width]) as tf.Tensor3D;
  });
}

/** Encodes `texts` with the tokenizer (padded and truncated to `maxLength`) and the text encoder. */
export function encodeTexts(parts: Required<PromptParts>, texts: string[], clipSkip: number | undefined, maxLength?: number): tf.Tensor3D {
  const { inputIds, attentionMask } = parts.tokenizer.encodeTensors(texts, {
    padding: 'max_length',
    truncation: true,
    maxLength: maxLength ?? parts.tokenizer.modelMaxLength,
  });
  try {
    return tf.tidy(() => {
      if (clipSkip === undefined) {
        const output = parts.textEncoder.encode(inputIds);
        tf.dispose(output.poolerOutput);
        return output.lastHiddenState;
      }
      const { hiddenStates } = parts.textEncoder.encode(inputIds, { outputHiddenStates: true });
      const states = hiddenStates!;
      return parts.textEncoder.applyFinalLayerNorm(states[states.length - 1 - clipSkip]);
    });
  } finally {
    tf.dispose([inputIds, attentionMask]);
  }
}

/**
 * The `encoderHiddenStates` of one `generate` call (the caller disposes them): the prompt states
 * repeated `numImagesPerPrompt` times per prompt, preceded with guidance by the negative states
 * (`[negative; positive]`, Diffusers' order).
 */
export function encodePrompt(
  parts: PromptParts,
  options: PromptOptions,
  batch: PromptBatch,
  guidance: boolean,
  context: string,
): tf.Tensor3D {
  const { batchSize, numImagesPerPrompt } = batch;
  const positive =
    options.promptEmbeds !== undefined
      ? tf.clone(options.promptEmbeds)
      : encodeTexts(
          parts as Required<PromptParts>,
          typeof options.prompt === 'string' ? [options.prompt] : options.prompt!,
          options.clipSkip,
        );
  try {
    const repeated = repeatRows(positive, numImagesPerPrompt);
    if (!guidance) return repeated;
    let negative: tf.Tensor3D;
    if (options.negativePromptEmbeds !== undefined) {
      negative = tf.clone(options.negativePromptEmbeds);
    } else {
      if (parts.tokenizer === undefined || parts.textEncoder === undefined) {
        repeated.dispose();
        throw new Error(
          `${context}: guidance needs negative prompt states; this pipeline has no text encoder, so pass negativePromptEmbeds`,
        );
      }
      const { negativePrompt } = options;
      const texts =
        negativePrompt === undefined
          ? new Array<string>(batchSize).fill('')
          : typeof negativePrompt === 'string'
            ? new Array<string>(batchSize).fill(negativePrompt)
            : negativePrompt;
      negative = encodeTexts(parts as Required<PromptParts>, texts, undefined, positive.shape[1]);
    }
    try {
      return tf.tidy(() => tf.concat([repeatRows(negative, numImagesPerPrompt), repeated], 0) as tf.Tensor3D);
    } finally {
      tf.dispose([negative, repeated]);
    }
  } finally {
    positive.dispose();
  }
}
