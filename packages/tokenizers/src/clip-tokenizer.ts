import * as tf from '@tensorflow/tfjs-core';
import { openPretrained, type LoadOptions, type PretrainedSource } from '@diffusion-ts/core';
import { Tokenizer } from '@huggingface/tokenizers';
import { checkMergesAgainstVocab, parseMergesTxt, parseTokenizerJson, parseVocabJson, type BpeVocabulary } from './bpe-files.js';
import { cleanClipText } from './clip-text-cleanup.js';
import { readTokenizerSettings, type CLIPTokenizerSettings } from './tokenizer-config.js';
import { TokenizerError } from './tokenizer-error.js';

/** The word pattern of OpenAI's and transformers' CLIP tokenizers (applied to cleaned, lower-cased text). */
const CLIP_WORD_PATTERN = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

/** How sequences are padded: to `maxLength`, to the longest sequence of the batch, or not at all. */
export type PaddingStrategy = 'max_length' | 'longest' | false;

/** Options of `encode`, `encodeBatch` and `encodeTensors`. */
export interface EncodeOptions {
  /** Put `<|startoftext|>` before and `<|endoftext|>` after the tokens. Default true. */
  addSpecialTokens?: boolean;
  /** Default false for `encode` and `encodeBatch`, `'max_length'` for `encodeTensors`. */
  padding?: PaddingStrategy;
  /** Drop the tokens past `maxLength` (keeping the end token). Default false, true for `encodeTensors`. */
  truncation?: boolean;
  /** The length to pad and truncate to. Default `modelMaxLength` (77). */
  maxLength?: number;
}

/** Encoded sequences: ids and the attention mask (1 = token, 0 = padding), one row per text. */
export interface BatchEncoding {
  inputIds: number[][];
  attentionMask: number[][];
}

/** Encoded sequences as int32 tensors [B, L]; the caller owns (and disposes) both. */
export interface TensorEncoding {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
}

/** Options of `decode`. */
export interface DecodeOptions {
  /** Leave out the special tokens (`<|startoftext|>`, `<|endoftext|>`, the padding token). Default false. */
  skipSpecialTokens?: boolean;
}

/**
 * Options of `fromPretrained`: a subfolder and the load limits (timeout, size, redirects,
 * `signal`; used when the source is given as a string).
 */
export interface CLIPTokenizerFromPretrainedOptions extends LoadOptions {
  /** A subfolder of the source, e.g. `tokenizer` in a Stable Diffusion folder. */
  subfolder?: string;
}

/** The texts of a tokenizer folder's files (`undefined` for the files it lacks). */
export interface CLIPTokenizerFiles {
  vocabJson?: string;
  mergesTxt?: string;
  tokenizerJson?: string;
  tokenizerConfigJson?: string;
  specialTokensMapJson?: string;
}

const UTF8 = new TextEncoder();

function parseOptionalJson(text: string | undefined, file: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TokenizerError(`${file}: invalid JSON (${(error as Error).message})`, file);
  }
}

/** transformers' `clean_up_tokenization`: no space before some punctuation and contractions. */
function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** Byte-level BPE's byte -> symbol table (GPT-2's `bytes_to_unicode`), and its inverse. */
function byteSymbols(): Map<string, number> {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b += 1) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b += 1) printable.push(b);
  for (let b = 0xae; b <= 0xff; b += 1) printable.push(b);
  const symbolToByte = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b += 1) {
    const code = printable.includes(b) ? b : 256 + extra++;
    symbolToByte.set(String.fromCharCode(code), b);
  }
  return symbolToByte;
}

/**
 * The CLIP tokenizer of Stable Diffusion folders, matching transformers' `CLIPTokenizer` (the
 * tokenizer Diffusers' pipelines load) as it runs without `ftfy`: BERT-style clean-up and
 * lower-casing, CLIP's word pattern, byte-level BPE with `</w>` word ends (by
 * `@huggingface/tokenizers`), `<|startoftext|>` ... `<|endoftext|>`, truncation and padding to
 * `model_max_length` (77) with the folder's padding token: `<|endoftext|>` (SD 1.x) or `!` (SD 2.x).
 * Special tokens in the text are never split.
 */
export class CLIPTokenizer {
  /** The padded and truncated length (77). */
  readonly modelMaxLength: number;
  readonly bosToken: string;
  readonly eosToken: string;
  readonly padToken: string;
  readonly unkToken: string;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  readonly unkTokenId: number;
  /** The number of tokens of the BPE vocabulary, added tokens aside (transformers' `vocab_size`: 49,408 for CLIP). */
  readonly vocabSize: number;
  private readonly tokenizer: Tokenizer;
  private readonly specialIds: Set<number>;
  private readonly cleanUpSpaces: boolean;
  private readonly symbolToByte = byteSymbols();

  /** Builds a tokenizer from a parsed vocabulary and settings (see `fromFiles` for file texts). */
  constructor(vocabulary: BpeVocabulary, settings: CLIPTokenizerSettings) {
    const idOf = (token: string, key: string): number => {
      const id = vocabulary.addedTokens.get(token) ?? (Object.hasOwn(vocabulary.vocab, token) ? vocabulary.vocab[token] : undefined);
      if (id === undefined) throw new TokenizerError(`${key} ${JSON.stringify(token)} is not in the vocabulary`);
      return id;
    };
    this.modelMaxLength = settings.modelMaxLength;
    this.bosToken = settings.bosToken;
    this.eosToken = settings.eosToken;
    this.padToken = settings.padToken;
    this.unkToken = settings.unkToken;
    this.bosTokenId = idOf(settings.bosToken, 'bos_token');
    this.eosTokenId = idOf(settings.eosToken, 'eos_token');
    this.padTokenId = idOf(settings.padToken, 'pad_token');
    this.unkTokenId = idOf(settings.unkToken, 'unk_token');
    this.cleanUpSpaces = settings.cleanUpTokenizationSpaces;
    const specials = [...new Set([settings.bosToken, settings.eosToken, settings.unkToken, settings.padToken])];
    this.specialIds = new Set(specials.map((token) => idOf(token, 'special token')));
    // transformers never splits special tokens: they are added tokens, matched in the text before
    // the word pattern runs (so with SD 2.x's pad token every "!" is id 0, not "!</w>").
    const addedTokens = [...vocabulary.addedTokens.keys(), ...specials].filter((token, i, all) => all.indexOf(token) === i);
    this.tokenizer = new Tokenizer(
      {
        normalizer: null,
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: CLIP_WORD_PATTERN }, behavior: 'Removed', invert: true },
            { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
          ],
        },
        model: {
          type: 'BPE',
          vocab: vocabulary.vocab,
          merges: vocabulary.merges,
          end_of_word_suffix: '</w>',
          continuing_subword_prefix: '',
          unk_token: settings.unkToken,
          fuse_unk: false,
          byte_fallback: false,
          dropout: null,
        },
        post_processor: null,
        decoder: null,
        added_tokens: addedTokens.map((content) => ({
          id: idOf(content, 'added token'),
          content,
          special: true,
          normalized: false,
          lstrip: false,
          rstrip: false,
          single_word: false,
        })),
      },
      {},
    );
    const tokens = this.tokenizer.model!.tokens_to_ids;
    checkMergesAgainstVocab((token) => tokens.has(token), vocabulary.merges, vocabulary.file);
    this.vocabSize = Object.keys(vocabulary.vocab).length;
  }

  /**
   * Builds a tokenizer from file texts: `vocabJson` + `mergesTxt` (SD's `tokenizer/` folder, read
   * as transformers' slow `CLIPTokenizer` reads them) or `tokenizerJson`, with the optional
   * `tokenizer_config.json` and `special_tokens_map.json`. Corrupt or mismatched files throw a
   * `TokenizerError` naming the file.
   */
  static fromFiles(files: CLIPTokenizerFiles): CLIPTokenizer {
    let vocabulary: BpeVocabulary;
    if (files.vocabJson !== undefined || files.mergesTxt !== undefined) {
      if (files.vocabJson === undefined) throw new TokenizerError('merges.txt comes without vocab.json', 'vocab.json');
      if (files.mergesTxt === undefined) throw new TokenizerError('vocab.json comes without merges.txt', 'merges.txt');
      vocabulary = {
        vocab: parseVocabJson(files.vocabJson),
        merges: parseMergesTxt(files.mergesTxt),
        addedTokens: new Map(),
        file: 'merges.txt',
      };
    } else if (files.tokenizerJson !== undefined) {
      vocabulary = parseTokenizerJson(files.tokenizerJson);
    } else {
      throw new TokenizerError('a CLIP tokenizer needs vocab.json and merges.txt, or tokenizer.json');
    }
    const settings = readTokenizerSettings(
      parseOptionalJson(files.tokenizerConfigJson, 'tokenizer_config.json'),
      parseOptionalJson(files.specialTokensMapJson, 'special_tokens_map.json'),
    );
    return new CLIPTokenizer(vocabulary, settings);
  }

  /**
   * Loads a tokenizer folder (local or an http(s) base URL; `subfolder: 'tokenizer'` in a Stable
   * Diffusion folder): `vocab.json` + `merges.txt` when present, else `tokenizer.json`, with
   * `tokenizer_config.json` and `special_tokens_map.json` when present.
   */
  static async fromPretrained(source: string | PretrainedSource, options: CLIPTokenizerFromPretrainedOptions = {}): Promise<CLIPTokenizer> {
    let root = typeof source === 'string' ? openPretrained(source, options) : source;
    if (options.subfolder) root = root.subfolder(options.subfolder);
    const read = async (file: string): Promise<string | undefined> => ((await root.exists(file)) ? root.readText(file) : undefined);
    const [vocabJson, mergesTxt, tokenizerConfigJson, specialTokensMapJson] = await Promise.all(
      ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'].map(read),
    );
    const tokenizerJson = vocabJson === undefined && mergesTxt === undefined ? await read('tokenizer.json') : undefined;
    if (vocabJson === undefined && mergesTxt === undefined && tokenizerJson === undefined) {
      throw new TokenizerError(`${root.location}: no tokenizer files (vocab.json + merges.txt, or tokenizer.json)`);
    }
    try {
      return CLIPTokenizer.fromFiles({ vocabJson, mergesTxt, tokenizerJson, tokenizerConfigJson, specialTokensMapJson });
    } catch (error) {
      if (error instanceof TokenizerError) throw new TokenizerError(`${root.location}: ${error.message}`, error.file);
      throw error;
    }
  }

  /** The BPE tokens of `text` (cleaned and lower-cased as transformers does), without special tokens. */
  tokenize(text: string): string[] {
    if (typeof text !== 'string') throw new TokenizerError(`tokenize: expected a string, got ${typeof text}`);
    const cleaned = cleanClipText(text);
    return cleaned.length === 0 ? [] : this.tokenizer.tokenize(cleaned);
  }

  /** The id of `token`, or `undefined` when it is not in the vocabulary. */
  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  /** The token of `id`, or `undefined` outside the vocabulary. */
  idToTokenString(id: number): string | undefined {
    return Number.isInteger(id) && id >= 0 ? this.tokenizer.id_to_token(id) : undefined;
  }

  /** Encodes one text to ids (`<|startoftext|>` ... `<|endoftext|>`, truncated and padded as asked). */
  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.encodeBatch([text], options).inputIds[0];
  }

  /**
   * Encodes texts to rows of ids and attention masks. With `truncation`, a row keeps its first
   * `maxLength - 2` tokens and its end token; `padding: 'max_length'` pads every row to
   * `maxLength`, `'longest'` to the longest row, with the padding token on the right.
   */
  encodeBatch(texts: string[], options: EncodeOptions = {}): BatchEncoding {
    if (!Array.isArray(texts)) throw new TokenizerError(`encodeBatch: expected an array of strings, got ${typeof texts}`);
    const addSpecialTokens = options.addSpecialTokens ?? true;
    const maxLength = options.maxLength ?? this.modelMaxLength;
    const specialCount = addSpecialTokens ? 2 : 0;
    if (!Number.isInteger(maxLength) || maxLength < specialCount || maxLength < 1) {
      throw new TokenizerError(`maxLength must be an integer of at least ${Math.max(1, specialCount)}, got ${maxLength}`);
    }
    const rows = texts.map((text, index) => {
      if (typeof text !== 'string') throw new TokenizerError(`text ${index} is ${text === null ? 'null' : typeof text}, not a string`);
      let ids = this.tokenize(text).map((token) => this.tokenizer.token_to_id(token) ?? this.unkTokenId);
      if (options.truncation && ids.length + specialCount > maxLength) ids = ids.slice(0, maxLength - specialCount);
      return addSpecialTokens ? [this.bosTokenId, ...ids, this.eosTokenId] : ids;
    });
    const padding = options.padding ?? false;
    const target = padding === 'max_length' ? maxLength : padding === 'longest' ? Math.max(0, ...rows.map((row) => row.length)) : 0;
    const attentionMask = rows.map((row) => [
      ...new Array<number>(row.length).fill(1),
      ...new Array<number>(Math.max(0, target - row.length)).fill(0),
    ]);
    const inputIds = rows.map((row) => [...row, ...new Array<number>(Math.max(0, target - row.length)).fill(this.padTokenId)]);
    return { inputIds, attentionMask };
  }

  /**
   * Encodes a text or a batch of texts to int32 tensors [B, L], by default as Diffusers' pipelines
   * call the tokenizer: padded to `maxLength` (77) and truncated. Without truncation a text longer
   * than `maxLength` throws a `TokenizerError` (its row would not fit).
   */
  encodeTensors(texts: string | string[], options: EncodeOptions = {}): TensorEncoding {
    const list = typeof texts === 'string' ? [texts] : texts;
    if (!Array.isArray(list) || list.length === 0)
      throw new TokenizerError('encodeTensors: expected a string or a non-empty array of strings');
    const settings: EncodeOptions = { padding: 'max_length', truncation: true, ...options };
    const encoded = this.encodeBatch(list, settings);
    const width = encoded.inputIds[0].length;
    const ragged = encoded.inputIds.findIndex((row) => row.length !== width);
    if (ragged >= 0) {
      throw new TokenizerError(
        `text ${ragged} encodes to ${encoded.inputIds[ragged].length} ids but text 0 to ${width}: pad them (padding 'max_length' or 'longest') and truncate to maxLength`,
      );
    }
    if (settings.padding === 'max_length' && width > (settings.maxLength ?? this.modelMaxLength)) {
      throw new TokenizerError(
        `a text encodes to ${width} ids, more than maxLength ${settings.maxLength ?? this.modelMaxLength}: pass truncation: true`,
      );
    }
    return tf.tidy(() => ({
      inputIds: tf.tensor2d(Int32Array.from(encoded.inputIds.flat()), [list.length, width], 'int32'),
      attentionMask: tf.tensor2d(Int32Array.from(encoded.attentionMask.flat()), [list.length, width], 'int32'),
    }));
  }

  /**
   * Turns ids back into text as transformers' `CLIPTokenizer.decode` does: the byte-level symbols
   * become UTF-8 (invalid bytes as U+FFFD), `</w>` becomes a space, the ends are trimmed. Ids
   * outside the vocabulary throw a `TokenizerError`.
   */
  decode(ids: ArrayLike<number> | tf.Tensor, options: DecodeOptions = {}): string {
    const values = ids instanceof tf.Tensor ? ids.dataSync() : ids;
    const bytes: number[] = [];
    for (let i = 0; i < values.length; i += 1) {
      const id = values[i];
      const token = this.idToTokenString(id);
      if (token === undefined) throw new TokenizerError(`decode: id ${id} at ${i} is not in the vocabulary`);
      if (options.skipSpecialTokens && this.specialIds.has(id)) continue;
      for (const symbol of token.replaceAll('</w>', ' ')) {
        const byte = this.symbolToByte.get(symbol);
        if (byte !== undefined) bytes.push(byte);
        else bytes.push(...UTF8.encode(symbol));
      }
    }
    const text = new TextDecoder('utf-8').decode(Uint8Array.from(bytes)).trim();
    return this.cleanUpSpaces ? cleanUpTokenization(text) : text;
  }
}
