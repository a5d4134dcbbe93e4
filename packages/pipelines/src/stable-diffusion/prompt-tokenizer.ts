/**
 * The tokenizer a text pipeline needs, as an interface: `@diffusion-ts/tokenizers` is an optional
 * peer dependency of this package, imported only when a folder's `tokenizer/` is loaded, so that
 * users of UNet-only pipelines (or of precomputed prompt embeddings) never install it.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { PretrainedSource } from '@diffusion-ts/core';

/** The package that provides `CLIPTokenizer`. */
export const TOKENIZERS_PACKAGE = '@diffusion-ts/tokenizers';

/** What the pipelines call on a tokenizer (`CLIPTokenizer` from `@diffusion-ts/tokenizers` fits). */
export interface PromptTokenizer {
  /** The sequence length the text encoder takes (77 for CLIP). */
  readonly modelMaxLength: number;
  /** Token ids [B, L] (int32), padded to `maxLength` and truncated, as Diffusers calls the tokenizer. */
  encodeTensors(texts: string | string[], options?: { padding?: 'max_length'; truncation?: boolean; maxLength?: number }): {
    inputIds: tf.Tensor2D;
    attentionMask: tf.Tensor2D;
  };
}

/** The tokenizer files of a folder, kept so that `save` writes them back unchanged. */
export type TokenizerFiles = Record<string, string>;

/** The files a CLIP tokenizer folder may hold, in the order `save` writes them. */
export const TOKENIZER_FILE_NAMES = ['vocab.json', 'merges.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'] as const;

interface TokenizersModule {
  CLIPTokenizer: { fromFiles(files: Record<string, string | undefined>): PromptTokenizer };
}

async function importTokenizers(): Promise<TokenizersModule> {
  try {
    return (await import(/* @vite-ignore */ TOKENIZERS_PACKAGE)) as TokenizersModule;
  } catch (error) {
    throw new Error(
      `loading a tokenizer needs the optional package ${TOKENIZERS_PACKAGE} (npm install ${TOKENIZERS_PACKAGE}); ` +
        `without it, pass promptEmbeds to generate (${(error as Error).message})`,
    );
  }
}

/**
 * Loads a CLIP tokenizer folder (`CLIPTokenizer` / `CLIPTokenizerFast`) through
 * `@diffusion-ts/tokenizers`, keeping its files for `save`.
 */
export async function loadClipTokenizer(source: PretrainedSource): Promise<{ tokenizer: PromptTokenizer; files: TokenizerFiles }> {
  const files: TokenizerFiles = {};
  for (const name of TOKENIZER_FILE_NAMES) if (await source.exists(name)) files[name] = await source.readText(name);
  const { CLIPTokenizer } = await importTokenizers();
  const tokenizer = CLIPTokenizer.fromFiles({
    vocabJson: files['vocab.json'],
    mergesTxt: files['merges.txt'],
    tokenizerJson: files['vocab.json'] === undefined ? files['tokenizer.json'] : undefined,
    tokenizerConfigJson: files['tokenizer_config.json'],
    specialTokensMapJson: files['special_tokens_map.json'],
  });
  return { tokenizer, files };
}
