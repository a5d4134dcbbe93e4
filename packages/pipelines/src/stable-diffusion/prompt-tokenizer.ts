/**
 * The tokenizer a text pipeline needs, as an interface, and its component loader:
 * `@diffusion-ts/tokenizers` is an optional peer dependency of this package, imported only when a
 * folder's `tokenizer/` is loaded, so that users of UNet-only pipelines (or of precomputed prompt
 * embeddings) never install it.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic, type PretrainedSource } from '@diffusion-ts/core';
import type { ComponentLoader, ComponentLoaders, PipelineComponent } from '../pipelines/component-loader.js';

/** The package that provides `CLIPTokenizer`. */
export const TOKENIZERS_PACKAGE = '@diffusion-ts/tokenizers';

/** What the pipelines call on a tokenizer (`CLIPTokenizer` from `@diffusion-ts/tokenizers` fits). */
export interface PromptTokenizer {
  /** The sequence length the text encoder takes (77 for CLIP). */
  readonly modelMaxLength: number;
  /** Token ids [B, L] (int32), padded to `maxLength` and truncated, as Diffusers calls the tokenizer. */
  encodeTensors(
    texts: string | string[],
    options?: { padding?: 'max_length'; truncation?: boolean; maxLength?: number },
  ): {
    inputIds: tf.Tensor2D;
    attentionMask: tf.Tensor2D;
  };
}

/** The files a CLIP tokenizer folder may hold, in the order they are written. */
export const TOKENIZER_FILE_NAMES = [
  'vocab.json',
  'merges.txt',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
] as const;

/** What the loader needs of `@diffusion-ts/tokenizers`' `CLIPTokenizer` class. */
export interface ClipTokenizerClass {
  fromFiles(files: {
    vocabJson?: string;
    mergesTxt?: string;
    tokenizerJson?: string;
    tokenizerConfigJson?: string;
    specialTokensMapJson?: string;
  }): PromptTokenizer;
}

interface TokenizersModule {
  CLIPTokenizer: ClipTokenizerClass;
}

async function importTokenizers(): Promise<TokenizersModule> {
  try {
    return (await import(/* @vite-ignore */ TOKENIZERS_PACKAGE)) as TokenizersModule;
  } catch (error) {
    throw new Error(
      `loading a tokenizer needs the optional package ${TOKENIZERS_PACKAGE} (npm install ${TOKENIZERS_PACKAGE}); ` +
        `without it, pass promptEmbeds to generate (${(error as Error).message})`,
      { cause: error },
    );
  }
}

/**
 * A CLIP tokenizer as a pipeline component: the tokenizer of `@diffusion-ts/tokenizers` with the
 * folder files it was built from, which `save` writes back unchanged.
 */
export class ClipTokenizerComponent implements PromptTokenizer, PipelineComponent {
  constructor(
    readonly tokenizer: PromptTokenizer,
    /** The tokenizer folder's files by name (`vocab.json`, `merges.txt`, …). */
    readonly files: Readonly<Record<string, string>>,
    /** `CLIPTokenizer` or `CLIPTokenizerFast`, as `model_index.json` names it. */
    readonly className = 'CLIPTokenizer',
  ) {}

  /**
   * Loads a tokenizer folder (`vocab.json` + `merges.txt`, or `tokenizer.json`, with the config
   * files present) with `tokenizerClass` (default: `CLIPTokenizer`, imported from
   * `@diffusion-ts/tokenizers` at run time).
   */
  static async fromPretrained(
    source: PretrainedSource,
    className = 'CLIPTokenizer',
    tokenizerClass?: ClipTokenizerClass,
  ): Promise<ClipTokenizerComponent> {
    const files: Record<string, string> = {};
    for (const name of TOKENIZER_FILE_NAMES) if (await source.exists(name)) files[name] = await source.readText(name);
    const CLIPTokenizer = tokenizerClass ?? (await importTokenizers()).CLIPTokenizer;
    try {
      const tokenizer = CLIPTokenizer.fromFiles({
        vocabJson: files['vocab.json'],
        mergesTxt: files['merges.txt'],
        tokenizerJson: files['vocab.json'] === undefined ? files['tokenizer.json'] : undefined,
        tokenizerConfigJson: files['tokenizer_config.json'],
        specialTokensMapJson: files['special_tokens_map.json'],
      });
      return new ClipTokenizerComponent(tokenizer, files, className);
    } catch (error) {
      throw new Error(`${source.location}: ${(error as Error).message}`, { cause: error });
    }
  }

  get modelMaxLength(): number {
    return this.tokenizer.modelMaxLength;
  }

  encodeTensors(
    texts: string | string[],
    options?: Parameters<PromptTokenizer['encodeTensors']>[1],
  ): ReturnType<PromptTokenizer['encodeTensors']> {
    return this.tokenizer.encodeTensors(texts, options);
  }

  /** Writes the tokenizer's files into `folder` (each atomically; Node only). */
  async save(folder: string): Promise<void> {
    const { mkdir } = await import('node:fs/promises');
    const nodePath = await import('node:path');
    await mkdir(folder, { recursive: true });
    for (const name of TOKENIZER_FILE_NAMES) {
      const text = this.files[name];
      if (text !== undefined) await writeFileAtomic(nodePath.join(folder, name), text);
    }
  }
}

/**
 * Loaders of transformers' CLIP tokenizer classes that build the tokenizer with `tokenizerClass`.
 * In a browser bundle pass `CLIPTokenizer` imported from `@diffusion-ts/tokenizers`, so that the
 * bundler includes it: `fromPretrained(url, { loaders: clipTokenizerLoaders(CLIPTokenizer) })`.
 */
export function clipTokenizerLoaders(tokenizerClass?: ClipTokenizerClass): ComponentLoaders {
  const loader: ComponentLoader<ClipTokenizerComponent> = {
    library: 'transformers',
    load: (source, { className }) => ClipTokenizerComponent.fromPretrained(source, className, tokenizerClass),
    save: (tokenizer, folder) => tokenizer.save(folder),
  };
  return Object.freeze({ CLIPTokenizer: loader, CLIPTokenizerFast: loader });
}

/** Loaders of transformers' CLIP tokenizer classes, importing the optional `@diffusion-ts/tokenizers` at run time (Node). */
export const TOKENIZER_LOADERS: ComponentLoaders = clipTokenizerLoaders();
