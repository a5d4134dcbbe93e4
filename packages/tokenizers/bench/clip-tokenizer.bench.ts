/**
 * Load time and memory of `CLIPTokenizer` with the real CLIP BPE (49,408 tokens, 48,894 merges,
 * the clip_text_small fixture's `tokenizer/` folder), and encoding throughput. Load: `fromPretrained`
 * from the folder, best of 5 after a warm-up. Memory: JS heap retained per tokenizer (after
 * `gc()`, run with --expose-gc as this config does). Run with `pnpm bench` in this package.
 */
import { initBackend } from '@diffusion-ts/core';
import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';
import { CLIPTokenizer } from '../src/index.js';
import { CLIP_TOKENIZER_FOLDER } from '../src/testing/fixtures.js';

const gc = (globalThis as { gc?: () => void }).gc;

function heapUsed(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

/** Best wall time in ms of `run` over `repeats` runs after one warm-up. */
async function best(run: () => unknown, repeats: number): Promise<number> {
  await run();
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i += 1) {
    const started = performance.now();
    await run();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

it('CLIPTokenizer (real CLIP vocabulary): load time, memory, encoding', async () => {
  await initBackend('cpu');
  const tokenizer = await CLIPTokenizer.fromPretrained(CLIP_TOKENIZER_FOLDER);
  // One tokenizer is loaded first, so module-level state does not count; three more are measured.
  const before = heapUsed();
  const more = await Promise.all([1, 2, 3].map(() => CLIPTokenizer.fromPretrained(CLIP_TOKENIZER_FOLDER)));
  const retained = (heapUsed() - before) / more.length;
  more.length = 0;
  const load = await best(() => CLIPTokenizer.fromPretrained(CLIP_TOKENIZER_FOLDER), 5);
  const prompts = Array.from(
    { length: 64 },
    (_, i) => `a highly detailed photograph number ${i} of a red fox in the snow, golden hour, 85mm`,
  );
  // After the warm-up run the BPE cache holds these words, as it does in a pipeline that reuses prompts.
  const batch = await best(() => {
    const { inputIds, attentionMask } = tokenizer.encodeTensors(prompts);
    tf.dispose([inputIds, attentionMask]);
  }, 5);
  console.log(
    [
      '| what | value |',
      '| --- | --- |',
      `| fromPretrained (vocab.json + merges.txt + tokenizer_config.json), best of 5 | ${load.toFixed(0)} ms |`,
      `| JS heap retained per tokenizer (mean of 3) | ${gc ? `${(retained / 2 ** 20).toFixed(1)} MiB` : 'n/a (run with --expose-gc)'} |`,
      `| encodeTensors, 64 prompts -> int32 [64, 77], best of 5 | ${batch.toFixed(1)} ms |`,
    ].join('\n'),
  );
});
