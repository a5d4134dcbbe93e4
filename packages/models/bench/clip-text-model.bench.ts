/**
 * Load time, weight memory and encode time of the tiny CLIP text encoder fixture
 * (`clip_text_small/text_encoder`: width 32, 2 layers, the real 49,408-token vocabulary, 1.61M
 * parameters, as `CLIPTextModelWithProjection`): `fromPretrained` from the folder (best of 5), the
 * tensor bytes it holds, and encoding a [4, 77] batch with and without every hidden state. Run
 * with `pnpm bench` in this package.
 *
 * Environment: BENCH_BACKENDS (default "wasm,wasm+native,cpu").
 */
import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';
import { CLIPTextModelWithProjection } from '../src/index.js';
import { CLIP_TEXT_SMALL_FOLDER, readClipTextIo } from '../src/testing/clip-fixtures.js';
import { BENCH_BACKENDS, best, loadFigures, startBenchBackend } from './bench-helpers.js';

const options = { subfolder: 'text_encoder' };

it('CLIPTextModelWithProjection (tiny fixture): load time, memory, encode', async () => {
  const rows: string[] = [];
  const ids = readClipTextIo()
    .tokenizer_cases.slice(0, 4)
    .map((c) => c.input_ids);
  for (const item of BENCH_BACKENDS) {
    if (!(await startBenchBackend(item))) continue;
    const load = await loadFigures(() => CLIPTextModelWithProjection.fromPretrained(CLIP_TEXT_SMALL_FOLDER, options), 5);

    const model = await CLIPTextModelWithProjection.fromPretrained(CLIP_TEXT_SMALL_FOLDER, options);
    const inputIds = tf.tensor2d(ids, undefined, 'int32');
    const encode = async (outputHiddenStates: boolean) => {
      const output = model.encode(inputIds, { outputHiddenStates });
      await output.textEmbeds.data();
      tf.dispose([output.lastHiddenState, output.poolerOutput, output.textEmbeds, ...(output.hiddenStates ?? [])]);
    };
    const plain = await best(() => encode(false), 5);
    const withStates = await best(() => encode(true), 5);
    inputIds.dispose();
    model.dispose();
    rows.push(`| ${item} | ${load.ms.toFixed(1)} | ${load.held} | ${plain.toFixed(1)} | ${withStates.toFixed(1)} |`);
  }
  console.log(
    [
      '| backend | fromPretrained ms | weights held | encode [4, 77] ms | with hidden states ms |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
    ].join('\n'),
  );
});
