import { TokenizerError } from './tokenizer-error.js';

/** A byte-level BPE vocabulary: token -> id, and the merges in rank order. */
export interface BpeVocabulary {
  /** Token -> id (a plain object, as `vocab.json` holds it; every id a distinct non-negative integer). */
  vocab: Record<string, number>;
  /** Merges as `[left, right]`, highest priority first. */
  merges: [string, string][];
  /** Tokens `tokenizer.json` adds to the model's vocabulary (its `added_tokens`). */
  addedTokens: Map<string, number>;
  /** The file the merges came from, named in errors (default `merges.txt`). */
  file?: string;
}

/**
 * The most merges transformers' `CLIPTokenizer` reads from `merges.txt` (OpenAI's CLIP keeps
 * 49152 - 256 - 2 of them: the vocabulary is 256 bytes, 256 bytes with `</w>`, the merges and the
 * two special tokens, 49408 in all).
 */
export const CLIP_MAX_MERGES = 49152 - 256 - 2;

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TokenizerError(`${file}: invalid JSON (${(error as Error).message})`, file);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Checks a token -> id object: non-negative integer ids, each used once. */
function toVocabulary(value: unknown, file: string): Record<string, number> {
  if (!isPlainObject(value)) throw new TokenizerError(`${file}: the vocabulary must be an object of token -> id`, file);
  const ids: number[] = [];
  for (const token in value) {
    const id = value[token];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new TokenizerError(`${file}: token ${JSON.stringify(token)} has id ${JSON.stringify(id)}, not a non-negative integer`, file);
    }
    ids.push(id);
  }
  if (ids.length === 0) throw new TokenizerError(`${file}: the vocabulary is empty`, file);
  const order = Float64Array.from(ids).sort();
  for (let i = 1; i < order.length; i += 1) {
    if (order[i] === order[i - 1]) {
      const owners = Object.keys(value)
        .filter((token) => value[token] === order[i])
        .map((token) => JSON.stringify(token));
      throw new TokenizerError(`${file}: tokens ${owners.join(' and ')} share id ${order[i]}`, file);
    }
  }
  return value as Record<string, number>;
}

/** Parses `vocab.json` (token -> id). */
export function parseVocabJson(text: string, file = 'vocab.json'): Record<string, number> {
  return toVocabulary(parseJson(text, file), file);
}

/**
 * Parses `merges.txt` as transformers' `CLIPTokenizer` does: the `#version` header line, then one
 * merge per line (`left right`), at most `CLIP_MAX_MERGES` of them; trailing blank lines are ignored.
 */
export function parseMergesTxt(text: string, file = 'merges.txt'): [string, string][] {
  const lines = text.replace(/^\s+|\s+$/g, '').split('\n');
  const start = lines[0]?.startsWith('#version') ? 1 : 0;
  const merges: [string, string][] = [];
  for (let index = start; index < lines.length && merges.length < CLIP_MAX_MERGES; index += 1) {
    merges.push(splitMerge(lines[index], file, index + 1));
  }
  return merges;
}

function splitMerge(line: string, file: string, lineNumber: number): [string, string] {
  const space = line.indexOf(' ');
  if (space > 0 && space < line.length - 1 && line.indexOf(' ', space + 1) < 0 && !/\s/.test(line[line.length - 1])) {
    return [line.slice(0, space), line.slice(space + 1)];
  }
  // Python's `merge.split()`: runs of whitespace separate the symbols (byte-level symbols hold none).
  const parts = line.trim().split(/\s+/);
  if (parts.length !== 2 || parts[0] === '') {
    throw new TokenizerError(
      `${file}: line ${lineNumber} must hold two symbols separated by a space, got ${JSON.stringify(line.slice(0, 60))}`,
      file,
    );
  }
  return [parts[0], parts[1]];
}

/**
 * Checks that vocabulary and merges belong together: both halves of every merge and the merged
 * symbol are tokens (a merges file from another tokenizer fails here, naming the first bad merge).
 */
export function checkMergesAgainstVocab(has: (token: string) => boolean, merges: [string, string][], file = 'merges.txt'): void {
  merges.forEach(([left, right], rank) => {
    for (const symbol of [left, right, left + right]) {
      if (!has(symbol)) {
        throw new TokenizerError(
          `${file}: merge ${rank + 1} (${JSON.stringify(`${left} ${right}`)}) uses ${JSON.stringify(symbol)}, which is not in the vocabulary`,
          file,
        );
      }
    }
  });
}

/**
 * Reads the BPE model of a `tokenizer.json` (the `tokenizers` library's format): `model.vocab`,
 * `model.merges` (either `"a b"` strings or `["a", "b"]` pairs, all of them, as the fast tokenizer
 * uses them) and `added_tokens`. The model must be a byte-level BPE with `</w>` word ends (CLIP).
 */
export function parseTokenizerJson(text: string, file = 'tokenizer.json'): BpeVocabulary {
  const json = parseJson(text, file);
  if (!isPlainObject(json) || !isPlainObject(json.model)) throw new TokenizerError(`${file}: no "model" object`, file);
  const model = json.model;
  if (model.type !== undefined && model.type !== 'BPE')
    throw new TokenizerError(
      `${file}: the model is ${typeof model.type === 'string' ? model.type : JSON.stringify(model.type)}, not a BPE model`,
      file,
    );
  if (model.end_of_word_suffix !== '</w>') {
    throw new TokenizerError(
      `${file}: a CLIP BPE model has end_of_word_suffix "</w>", got ${JSON.stringify(model.end_of_word_suffix)}`,
      file,
    );
  }
  const vocab = toVocabulary(model.vocab, file);
  if (!Array.isArray(model.merges)) throw new TokenizerError(`${file}: model.merges must be an array`, file);
  const merges = model.merges.map((merge: unknown, index: number): [string, string] => {
    if (typeof merge === 'string') return splitMerge(merge, file, index + 1);
    if (Array.isArray(merge) && merge.length === 2 && merge.every((part) => typeof part === 'string' && part !== '')) {
      const pair = merge as [string, string];
      return [pair[0], pair[1]];
    }
    throw new TokenizerError(
      `${file}: model.merges[${index}] must be "left right" or ["left", "right"], got ${JSON.stringify(merge)?.slice(0, 60)}`,
      file,
    );
  });
  const addedTokens = new Map<string, number>();
  const added = json.added_tokens ?? [];
  if (!Array.isArray(added)) throw new TokenizerError(`${file}: added_tokens must be an array`, file);
  for (const token of added) {
    if (
      !isPlainObject(token) ||
      typeof token.content !== 'string' ||
      typeof token.id !== 'number' ||
      !Number.isInteger(token.id) ||
      token.id < 0
    ) {
      throw new TokenizerError(
        `${file}: an added token must have a string content and an integer id, got ${JSON.stringify(token)?.slice(0, 80)}`,
        file,
      );
    }
    addedTokens.set(token.content, token.id);
  }
  return { vocab, merges, addedTokens, file };
}
