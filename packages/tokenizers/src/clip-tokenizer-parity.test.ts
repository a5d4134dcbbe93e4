import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIPTokenizer } from './clip-tokenizer.js';
import { readFixtureCases, readReferenceCases, readTokenizerFile } from './testing/fixtures.js';

const cases = readReferenceCases();

describe('CLIPTokenizer parity with transformers CLIPTokenizer', () => {
  let sd1: CLIPTokenizer;
  let sd2: CLIPTokenizer;

  beforeAll(() => {
    const files = { vocabJson: readTokenizerFile('vocab.json'), mergesTxt: readTokenizerFile('merges.txt') };
    const config = (pad: string) =>
      JSON.stringify({
        model_max_length: 77,
        bos_token: '<|startoftext|>',
        eos_token: '<|endoftext|>',
        unk_token: '<|endoftext|>',
        pad_token: pad,
      });
    sd1 = CLIPTokenizer.fromFiles({ ...files, tokenizerConfigJson: config('<|endoftext|>') });
    sd2 = CLIPTokenizer.fromFiles({ ...files, tokenizerConfigJson: config('!') });
  });

  it('has at least 30 reference prompts', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases.map((c, i) => [i, JSON.stringify(c.prompt).slice(0, 50), c] as const))(
    'case %i %s: tokens, ids and masks (SD 1.x and 2.x), decode',
    (_, __, reference) => {
      for (const [name, tokenizer] of [
        ['sd1', sd1],
        ['sd2', sd2],
      ] as const) {
        const expected = reference[name];
        expect(tokenizer.tokenize(reference.prompt), `${name} tokens`).toEqual(expected.tokens);
        const encoded = tokenizer.encodeBatch([reference.prompt], { padding: 'max_length', truncation: true, maxLength: 77 });
        expect(encoded.inputIds[0], `${name} input_ids`).toEqual(expected.input_ids);
        expect(encoded.attentionMask[0], `${name} attention_mask`).toEqual(expected.attention_mask);
        expect(tokenizer.decode(expected.input_ids), `${name} decode`).toBe(expected.decoded);
        expect(tokenizer.decode(expected.input_ids, { skipSpecialTokens: true }), `${name} decode skipping special tokens`).toBe(
          expected.decoded_skip_special,
        );
      }
      expect(sd1.encode(reference.prompt)).toHaveLength(reference.untruncated_length);
    },
  );

  it.each(readFixtureCases().map((c) => [JSON.stringify(c.prompt).slice(0, 50), c] as const))(
    'OpenAI CLIP fixture prompt %s',
    (_, reference) => {
      expect(sd1.encode(reference.prompt, { padding: 'max_length', truncation: true })).toEqual(reference.input_ids);
    },
  );
});

describe.each(testBackendNames())('CLIPTokenizer batch tensors on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it('encodes all reference prompts at once to int32 [45, 77] equal to transformers, for both conventions', () => {
    const files = { vocabJson: readTokenizerFile('vocab.json'), mergesTxt: readTokenizerFile('merges.txt') };
    const before = tf.memory().numTensors;
    for (const [name, pad] of [
      ['sd1', '<|endoftext|>'],
      ['sd2', '!'],
    ] as const) {
      const tokenizer = CLIPTokenizer.fromFiles({ ...files, specialTokensMapJson: JSON.stringify({ pad_token: pad }) });
      const { inputIds, attentionMask } = tokenizer.encodeTensors(cases.map((c) => c.prompt));
      expect(inputIds.shape).toEqual([cases.length, 77]);
      expect(inputIds.arraySync(), name).toEqual(cases.map((c) => c[name].input_ids));
      expect(attentionMask.arraySync(), name).toEqual(cases.map((c) => c[name].attention_mask));
      tf.dispose([inputIds, attentionMask]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
