// Consumer check for @diffusion-ts/tokenizers: loads the real CLIP vocabulary (SD's tokenizer/
// layout), encodes prompts to int32 [B, 77] as Diffusers does, decodes, and names a corrupt file.
import { mkdir, writeFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '@diffusion-ts/core';
import { CLIPTokenizer, TokenizerError } from '@diffusion-ts/tokenizers';
import { check, expect, finish } from './harness.mjs';

await initBackend('cpu');
let tokenizer;
await check('CLIPTokenizer.fromPretrained(./tokenizer)', async () => {
  tokenizer = await CLIPTokenizer.fromPretrained('./tokenizer');
  expect(tokenizer.vocabSize === 49408, `vocab size ${tokenizer.vocabSize}`);
  return `${tokenizer.vocabSize} tokens, max length ${tokenizer.modelMaxLength}`;
});
await check('encodeTensors gives transformers ids as int32 [2, 77]', () => {
  const { inputIds, attentionMask } = tokenizer.encodeTensors(['a photo of an astronaut riding a horse on mars', '']);
  expect(inputIds.dtype === 'int32' && inputIds.shape.join() === '2,77', `shape ${inputIds.shape} ${inputIds.dtype}`);
  const rows = inputIds.arraySync();
  const expected = [49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 525, 7496, 49407, 49407];
  expect(rows[0].slice(0, 13).join() === expected.join(), `ids ${rows[0].slice(0, 13)}`);
  expect(rows[1].slice(0, 3).join() === '49406,49407,49407', `empty prompt ${rows[1].slice(0, 3)}`);
  tf.dispose([inputIds, attentionMask]);
});
await check('decode skips special tokens', () => {
  const text = tokenizer.decode(tokenizer.encode('Hello, World!'), { skipSpecialTokens: true });
  expect(text === 'hello , world !', `decoded ${JSON.stringify(text)}`);
});
await check('a corrupt merges.txt is a TokenizerError naming the file', async () => {
  await mkdir('./broken', { recursive: true });
  await writeFile('./broken/vocab.json', JSON.stringify({ a: 0, b: 1 }));
  await writeFile('./broken/merges.txt', '#version: 0.2\na b c\n');
  try {
    await CLIPTokenizer.fromPretrained('./broken');
    return false;
  } catch (error) {
    expect(error instanceof TokenizerError && /merges\.txt/.test(error.message), String(error));
  }
});
finish();
