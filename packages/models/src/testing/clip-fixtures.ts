import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs-core';
import type { FixtureArray } from './fixtures.js';

/** The tiny CLIP text encoder fixture (OpenAI CLIP's code, transformers' names and layout). */
export const CLIP_TEXT_SMALL_FOLDER = fileURLToPath(new URL('../../../../fixtures/diffusers/clip_text_small/', import.meta.url));

/** One tokenized prompt of the fixture. */
export interface ClipTokenizerCase {
  prompt: string;
  input_ids: number[];
}

/** The parts of `clip_text_small/io.json` the model tests use. */
export interface ClipTextIo {
  tokenizer_cases: ClipTokenizerCase[];
  outputs: {
    last_hidden_state: FixtureArray;
    pooler_output: FixtureArray;
    text_embeds: FixtureArray;
    hidden_states: FixtureArray[];
  };
}

/** Reads `clip_text_small/io.json`. */
export function readClipTextIo(): ClipTextIo {
  return JSON.parse(readFileSync(`${CLIP_TEXT_SMALL_FOLDER}io.json`, 'utf8')) as ClipTextIo;
}

/**
 * The largest error of `actual` against the reference, relative to max(1, |reference|) per
 * element (the tolerance measure).
 */
export function maxRelativeError(actual: tf.Tensor, expected: FixtureArray): number {
  if (actual.shape.join() !== expected.shape.join())
    throw new Error(`shape [${actual.shape.join(',')}] differs from the reference [${expected.shape.join(',')}]`);
  const values = actual.dataSync();
  let worst = 0;
  for (let i = 0; i < values.length; i += 1) {
    const reference = Math.fround(expected.data[i]);
    worst = Math.max(worst, Math.abs(values[i] - reference) / Math.max(1, Math.abs(reference)));
  }
  return worst;
}
