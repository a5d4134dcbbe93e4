import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The real CLIP BPE (49,408 tokens) in SD's `tokenizer/` layout, from the clip_text_small fixture. */
export const CLIP_TOKENIZER_FOLDER = fileURLToPath(new URL('../../../../fixtures/diffusers/clip_text_small/tokenizer/', import.meta.url));

/** One convention's reference encoding of a prompt. */
export interface ReferenceEncoding {
  tokens: string[];
  input_ids: number[];
  attention_mask: number[];
  decoded: string;
  decoded_skip_special: string;
}

/** One prompt of `clip_tokenizer_cases.json`, encoded by transformers' CLIPTokenizer. */
export interface ReferenceCase {
  prompt: string;
  tokens: string[];
  sd1: ReferenceEncoding;
  sd2: ReferenceEncoding;
  untruncated_length: number;
  openai_matches_transformers: boolean;
}

/** `fixtures/diffusers/clip_tokenizer_cases.json` (scripts/reference/clip_tokenizer_cases.py). */
export function readReferenceCases(): ReferenceCase[] {
  const path = fileURLToPath(new URL('../../../../fixtures/diffusers/clip_tokenizer_cases.json', import.meta.url));
  return (JSON.parse(readFileSync(path, 'utf8')) as { cases: ReferenceCase[] }).cases;
}

/** The 12 prompts of `clip_text_small/io.json`, tokenized by OpenAI CLIP's own tokenizer (SD 1.x padding). */
export function readFixtureCases(): { prompt: string; input_ids: number[] }[] {
  const path = fileURLToPath(new URL('../../../../fixtures/diffusers/clip_text_small/io.json', import.meta.url));
  return (JSON.parse(readFileSync(path, 'utf8')) as { tokenizer_cases: { prompt: string; input_ids: number[] }[] }).tokenizer_cases;
}

/** The text of a file of the fixture tokenizer folder. */
export function readTokenizerFile(name: string): string {
  return readFileSync(`${CLIP_TOKENIZER_FOLDER}${name}`, 'utf8');
}
