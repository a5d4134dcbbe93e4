import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanClipText } from './clip-text-cleanup.js';
import { CLIPTokenizer } from './clip-tokenizer.js';
import { CLIP_TOKENIZER_FOLDER, readTokenizerFile } from './testing/fixtures.js';
import { TokenizerError } from './tokenizer-error.js';

const vocabJson = readTokenizerFile('vocab.json');
const mergesTxt = readTokenizerFile('merges.txt');
const PROMPT = 'a photo of an astronaut riding a horse on mars';
const PROMPT_IDS = [49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 525, 7496, 49407];

/** A temporary tokenizer folder with the given files. */
async function folderWith(files: Record<string, string>): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'clip-tokenizer-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(folder, name), text);
  return folder;
}

/** The fixture's vocabulary and merges as a `tokenizer.json` (the layout the `tokenizers` library writes for CLIP). */
function tokenizerJson(): string {
  const merges = mergesTxt.trim().split('\n').slice(1);
  return JSON.stringify({
    version: '1.0',
    added_tokens: [
      { id: 49406, content: '<|startoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
      { id: 49407, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<|endoftext|>',
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      vocab: JSON.parse(vocabJson) as Record<string, number>,
      merges,
    },
  });
}

describe('CLIPTokenizer loading', () => {
  it("loads SD's tokenizer/ folder (vocab.json + merges.txt + tokenizer_config.json)", async () => {
    const tokenizer = await CLIPTokenizer.fromPretrained(join(CLIP_TOKENIZER_FOLDER, '..'), { subfolder: 'tokenizer' });
    expect(tokenizer.vocabSize).toBe(49408);
    expect(tokenizer.modelMaxLength).toBe(77);
    expect([tokenizer.bosTokenId, tokenizer.eosTokenId, tokenizer.padTokenId, tokenizer.unkTokenId]).toEqual([49406, 49407, 49407, 49407]);
    expect(tokenizer.encode(PROMPT)).toEqual(PROMPT_IDS);
    expect(tokenizer.decode(PROMPT_IDS, { skipSpecialTokens: true })).toBe(PROMPT);
  });

  it("lets special_tokens_map.json override tokenizer_config.json (SD 2.x's pad token '!')", async () => {
    const folder = await folderWith({
      'vocab.json': vocabJson,
      'merges.txt': mergesTxt,
      'tokenizer_config.json': JSON.stringify({
        model_max_length: 77,
        pad_token: '<|endoftext|>',
        bos_token: { __type: 'AddedToken', content: '<|startoftext|>', lstrip: false },
      }),
      'special_tokens_map.json': JSON.stringify({ pad_token: '!', eos_token: { content: '<|endoftext|>' } }),
    });
    const tokenizer = await CLIPTokenizer.fromPretrained(folder);
    expect(tokenizer.padToken).toBe('!');
    expect(tokenizer.padTokenId).toBe(0);
    const [row] = tokenizer.encodeBatch(['hello!'], { padding: 'max_length' }).inputIds;
    expect(row.slice(0, 6)).toEqual([49406, 3306, 0, 49407, 0, 0]);
    await rm(folder, { recursive: true, force: true });
  });

  it('loads a tokenizer.json alone, with the same encodings', async () => {
    const folder = await folderWith({
      'tokenizer.json': tokenizerJson(),
      'tokenizer_config.json': JSON.stringify({ model_max_length: 77 }),
    });
    const fromJson = await CLIPTokenizer.fromPretrained(folder);
    const fromFiles = CLIPTokenizer.fromFiles({ vocabJson, mergesTxt });
    for (const text of [PROMPT, "it's 2024! naïve café 日本", '<|endoftext|> a']) {
      expect(fromJson.encode(text, { padding: 'max_length' })).toEqual(fromFiles.encode(text, { padding: 'max_length' }));
    }
    await rm(folder, { recursive: true, force: true });
  });

  it('names the bad file: corrupt, inconsistent or missing tokenizer files', async () => {
    const config = JSON.stringify({ model_max_length: 77 });
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'vocab.json': '{"a": 0,', 'merges.txt': mergesTxt }, /vocab\.json: invalid JSON/],
      [{ 'vocab.json': '[1, 2]', 'merges.txt': mergesTxt }, /vocab\.json: the vocabulary must be an object/],
      [{ 'vocab.json': '{"a": 0, "b": 0}', 'merges.txt': '#version: 0.2\n' }, /tokens "a" and "b" share id 0/],
      [{ 'vocab.json': '{"a": -1}', 'merges.txt': '#version: 0.2\n' }, /token "a" has id -1/],
      [{ 'vocab.json': vocabJson, 'merges.txt': '#version: 0.2\ni n\nt h e\n' }, /merges\.txt: line 3 must hold two symbols/],
      [
        { 'vocab.json': vocabJson, 'merges.txt': '#version: 0.2\ni n\nq zzz\n' },
        /merges\.txt: merge 2 \("q zzz"\) uses "zzz", which is not in the vocabulary/,
      ],
      [{ 'vocab.json': vocabJson }, /vocab\.json comes without merges\.txt/],
      [{ 'merges.txt': mergesTxt }, /merges\.txt comes without vocab\.json/],
      [
        { 'vocab.json': '{"a": 0, "b": 1, "ab": 2}', 'merges.txt': '#version: 0.2\na b\n' },
        /bos_token "<\|startoftext\|>" is not in the vocabulary/,
      ],
      [
        { 'vocab.json': vocabJson, 'merges.txt': mergesTxt, 'special_tokens_map.json': '{"pad_token": "<pad>"}' },
        /pad_token "<pad>" is not in the vocabulary/,
      ],
      [
        { 'vocab.json': vocabJson, 'merges.txt': mergesTxt, 'tokenizer_config.json': '{"model_max_length": "77"}' },
        /model_max_length must be an integer/,
      ],
      [
        { 'vocab.json': vocabJson, 'merges.txt': mergesTxt, 'tokenizer_config.json': '{"pad_token": 5}' },
        /tokenizer_config\.json: pad_token must be a string/,
      ],
      [{ 'tokenizer.json': '{"model": {"type": "WordPiece"}}' }, /tokenizer\.json: the model is WordPiece, not a BPE model/],
      [{ 'tokenizer.json': '{"model": {"type": "BPE", "vocab": {}, "merges": []}}' }, /end_of_word_suffix "<\/w>"/],
      [{ 'tokenizer_config.json': config }, /no tokenizer files/],
    ];
    for (const [files, message] of cases) {
      const folder = await folderWith(files);
      const error = await CLIPTokenizer.fromPretrained(folder).catch((caught: unknown) => caught);
      expect(error, JSON.stringify(Object.keys(files))).toBeInstanceOf(TokenizerError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain(folder);
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('loads from an http(s) base URL (a local server)', async () => {
    const { createServer } = await import('node:http');
    const { readFile } = await import('node:fs/promises');
    const server = createServer((request, response) => {
      const path = join(CLIP_TOKENIZER_FOLDER, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
      readFile(path).then(
        (body) => response.writeHead(200, { 'content-length': body.length }).end(request.method === 'HEAD' ? undefined : body),
        () => response.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const tokenizer = await CLIPTokenizer.fromPretrained(`http://127.0.0.1:${port}`);
      expect(tokenizer.encode(PROMPT)).toEqual(PROMPT_IDS);
      // The load limits reach every file (issue 17): vocab.json is larger than 64 KiB.
      await expect(CLIPTokenizer.fromPretrained(`http://127.0.0.1:${port}`, { maxTextBytes: 2 ** 16 })).rejects.toMatchObject({
        name: 'LoadError',
        fault: 'too-large',
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('CLIPTokenizer encoding', () => {
  const tokenizer = CLIPTokenizer.fromFiles({ vocabJson, mergesTxt, tokenizerConfigJson: JSON.stringify({ model_max_length: 77 }) });

  it('pads to the longest row, or not at all, and truncates keeping the end token', () => {
    const batch = tokenizer.encodeBatch(['a cat', 'a photo of a dog'], { padding: 'longest' });
    expect(batch.inputIds).toEqual([
      [49406, 320, 2368, 49407, 49407, 49407, 49407],
      [49406, 320, 1125, 539, 320, 1929, 49407],
    ]);
    expect(batch.attentionMask[0]).toEqual([1, 1, 1, 1, 0, 0, 0]);
    expect(tokenizer.encode('a cat')).toEqual([49406, 320, 2368, 49407]);
    expect(tokenizer.encode('a cat', { addSpecialTokens: false })).toEqual([320, 2368]);
    expect(tokenizer.encode('a photo of a dog', { truncation: true, maxLength: 4 })).toEqual([49406, 320, 1125, 49407]);
    expect(tokenizer.encode('cat '.repeat(100), { truncation: true })).toHaveLength(77);
    expect(tokenizer.encode('cat '.repeat(100))).toHaveLength(102);
  });

  it('refuses non-string texts and impossible lengths with a TokenizerError', () => {
    expect(() => tokenizer.encodeBatch(['ok', 5 as unknown as string])).toThrow(/text 1 is number, not a string/);
    expect(() => tokenizer.encodeBatch([null as unknown as string])).toThrow(TokenizerError);
    expect(() => tokenizer.encode('a', { maxLength: 1 })).toThrow(/maxLength must be an integer of at least 2/);
    expect(() => tokenizer.tokenize(undefined as unknown as string)).toThrow(/expected a string/);
    expect(() => tokenizer.decode([49408])).toThrow(/id 49408 at 0 is not in the vocabulary/);
  });

  it('cleans text as transformers does without ftfy', () => {
    expect(cleanClipText('  Hello\tWORLD\n ')).toBe('hello world');
    expect(cleanClipText('日本の猫')).toBe('日 本 の 猫');
    expect(cleanClipText('e\u0301\u200b\u0000x\ufffd')).toBe('éx');
    expect(cleanClipText('a\u00a0b\u3000c')).toBe('a b c');
  });
});

describe.each(testBackendNames())('CLIPTokenizer tensors on %s', (backend) => {
  let tokenizer: CLIPTokenizer;

  beforeAll(async () => {
    await initBackend(backend);
    tokenizer = await CLIPTokenizer.fromPretrained(CLIP_TOKENIZER_FOLDER);
  });

  afterAll(() => {
    tf.disposeVariables();
  });

  it('encodes a batch to int32 tensors [B, 77] as Diffusers calls the tokenizer', () => {
    const before = tf.memory().numTensors;
    const { inputIds, attentionMask } = tokenizer.encodeTensors([PROMPT, '', 'cat '.repeat(100)]);
    expect(inputIds.dtype).toBe('int32');
    expect(inputIds.shape).toEqual([3, 77]);
    expect(attentionMask.shape).toEqual([3, 77]);
    const rows = inputIds.arraySync();
    expect(rows[0].slice(0, 13)).toEqual([...PROMPT_IDS, 49407]);
    expect(rows[1].slice(0, 3)).toEqual([49406, 49407, 49407]);
    expect(rows[2][76]).toBe(49407);
    expect(attentionMask.arraySync()[1].slice(0, 3)).toEqual([1, 1, 0]);
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([inputIds, attentionMask]);
    const single = tokenizer.encodeTensors(PROMPT);
    expect(single.inputIds.shape).toEqual([1, 77]);
    tf.dispose([single.inputIds, single.attentionMask]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses rows that do not fit one tensor', () => {
    const before = tf.memory().numTensors;
    expect(() => tokenizer.encodeTensors([PROMPT, 'cat'], { padding: false })).toThrow(/text 1 encodes to 3 ids but text 0 to 12/);
    expect(() => tokenizer.encodeTensors('cat '.repeat(100), { truncation: false })).toThrow(
      /more than maxLength 77: pass truncation: true/,
    );
    expect(() => tokenizer.encodeTensors([])).toThrow(TokenizerError);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('decodes a tensor row', () => {
    const { inputIds, attentionMask } = tokenizer.encodeTensors(PROMPT);
    expect(tokenizer.decode(inputIds, { skipSpecialTokens: true })).toBe(PROMPT);
    tf.dispose([inputIds, attentionMask]);
  });
});
