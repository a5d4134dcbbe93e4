import { TokenizerError } from './tokenizer-error.js';

/** The settings of a CLIP tokenizer that `tokenizer_config.json` and `special_tokens_map.json` hold. */
export interface CLIPTokenizerSettings {
  /** `<|startoftext|>`, put before every sequence. */
  bosToken: string;
  /** `<|endoftext|>`, put after every sequence. */
  eosToken: string;
  /** The padding token: `<|endoftext|>` in SD 1.x folders, `!` in SD 2.x folders. */
  padToken: string;
  /** The token unknown symbols map to (`<|endoftext|>`). */
  unkToken: string;
  /** The padded and truncated length (77: CLIP's context). */
  modelMaxLength: number;
  /** Whether `decode` applies transformers' `clean_up_tokenization` (" ." -> ".", ...). */
  cleanUpTokenizationSpaces: boolean;
}

/**
 * transformers' `CLIPTokenizer` defaults. `model_max_length` has no default there (a huge number):
 * 77, CLIP's context length, stands in when a folder does not give it.
 */
export const CLIP_TOKENIZER_DEFAULTS: CLIPTokenizerSettings = {
  bosToken: '<|startoftext|>',
  eosToken: '<|endoftext|>',
  padToken: '<|endoftext|>',
  unkToken: '<|endoftext|>',
  modelMaxLength: 77,
  cleanUpTokenizationSpaces: false,
};

/** transformers' `VERY_LARGE_INTEGER`-style placeholders: anything this large means "not set". */
const UNSET_MAX_LENGTH = 1e12;

type SpecialTokenKey = 'bos_token' | 'eos_token' | 'pad_token' | 'unk_token';
const SPECIAL_TOKENS: [SpecialTokenKey, 'bosToken' | 'eosToken' | 'padToken' | 'unkToken'][] = [
  ['bos_token', 'bosToken'],
  ['eos_token', 'eosToken'],
  ['pad_token', 'padToken'],
  ['unk_token', 'unkToken'],
];

/** A special token as a file writes it: a string, or transformers' `AddedToken` object with `content`. */
function tokenText(value: unknown, key: string, file: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && !Array.isArray(value) && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  throw new TokenizerError(
    `${file}: ${key} must be a string or an object with a string "content", got ${JSON.stringify(value)?.slice(0, 60)}`,
    file,
  );
}

function checkObject(value: unknown, file: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new TokenizerError(`${file}: expected a JSON object`, file);
  return value as Record<string, unknown>;
}

/**
 * Reads `tokenizer_config.json` and `special_tokens_map.json` as transformers does: the special
 * tokens of `special_tokens_map.json` override those of `tokenizer_config.json` (which is how SD
 * 2.x folders get `pad_token: "!"`), `model_max_length` comes from `tokenizer_config.json`.
 */
export function readTokenizerSettings(tokenizerConfig?: unknown, specialTokensMap?: unknown): CLIPTokenizerSettings {
  const settings = { ...CLIP_TOKENIZER_DEFAULTS };
  const sources: [unknown, string][] = [
    [tokenizerConfig, 'tokenizer_config.json'],
    [specialTokensMap, 'special_tokens_map.json'],
  ];
  for (const [json, file] of sources) {
    if (json === undefined) continue;
    const object = checkObject(json, file);
    for (const [key, option] of SPECIAL_TOKENS) {
      const text = tokenText(object[key], key, file);
      if (text !== undefined) settings[option] = text;
    }
  }
  if (tokenizerConfig !== undefined) {
    const config = tokenizerConfig as Record<string, unknown>;
    const length = config.model_max_length;
    if (length !== undefined && length !== null) {
      if (typeof length !== 'number' || !Number.isInteger(length) || length < 2) {
        throw new TokenizerError(
          `tokenizer_config.json: model_max_length must be an integer of at least 2, got ${JSON.stringify(length)}`,
          'tokenizer_config.json',
        );
      }
      if (length < UNSET_MAX_LENGTH) settings.modelMaxLength = length;
    }
    const cleanUp = config.clean_up_tokenization_spaces;
    if (cleanUp !== undefined && cleanUp !== null) {
      if (typeof cleanUp !== 'boolean')
        throw new TokenizerError('tokenizer_config.json: clean_up_tokenization_spaces must be a boolean', 'tokenizer_config.json');
      settings.cleanUpTokenizationSpaces = cleanUp;
    }
  }
  return settings;
}
