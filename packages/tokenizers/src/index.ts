export {
  CLIPTokenizer,
  type BatchEncoding,
  type CLIPTokenizerFiles,
  type CLIPTokenizerFromPretrainedOptions,
  type DecodeOptions,
  type EncodeOptions,
  type PaddingStrategy,
  type TensorEncoding,
} from './clip-tokenizer.js';
/** transformers' `CLIPTokenizer` text clean-up without `ftfy` (BERT's BasicTokenizer, lower-cased). */
export { cleanClipText } from './clip-text-cleanup.js';
export { CLIP_MAX_MERGES, parseMergesTxt, parseTokenizerJson, parseVocabJson, type BpeVocabulary } from './bpe-files.js';
export { CLIP_TOKENIZER_DEFAULTS, readTokenizerSettings, type CLIPTokenizerSettings } from './tokenizer-config.js';
export { TokenizerError } from './tokenizer-error.js';
