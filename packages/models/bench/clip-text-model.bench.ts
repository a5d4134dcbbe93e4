/**
 * Load time, weight memory and encode time of the tiny CLIP text encoder fixture
 * (`clip_text_small/text_encoder`: width 32, 2 layers, the real 49,408-token vocabulary, 1.61M
 * parameters, as `CLIPTextModelWithProjection`): `fromPretrained` from the folder (best of 5), the
 * tensor bytes it holds, and encoding a [4, 77] batch with and without every hidden state. Run
 * with `pnpm bench` in this package.
 *
 * Environment: BENCH_BACKENDS (default "wasm,wasm+native,cpu").
 */
import { initBackend, useNativeKernels, type BackendName } from '@diffusion-ts/core';
import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';
import { CLIPTextModelWithProjection } from '../src/index.js';
import { CLIP_TEXT_SMALL_FOLDER, readClipTextIo } from '../src/testing/clip-fixtures.js';

type BenchBackend = BackendName | 'wasm+native';
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'wasm,wasm+native,cpu').split(',') as BenchBackend[];
const options = { subfolder: 'text_encoder' };

/** Best wall time in ms of `run` over `repeats` runs after one warm-up. */
async function best(run: () => Promise<unknown> | unknown, repeats: number): Promise<number> {
  await run();
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i += 1) {
    const started = performance.now();
    await run();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

it('CLIPTextModelWithProjection (tiny fixture): load time, memory, encode', async () => {
  const rows: string[] = [];
  const ids = readClipTextIo().tokenizer_cases.slice(0, 4).map((c) => c.input_ids);
  for (const item of BACKENDS) {
    await initBackend(item === 'wasm+native' ? 'wasm' : item);
    if (item.startsWith('wasm')) {
      const status = await useNativeKernels(item === 'wasm+native');
      if (item === 'wasm+native' && !status.active) {
        console.log(`skipping wasm+native: ${status.reason}`);
        continue;
      }
    }
    const bytesBefore = tf.memory().numBytes;
    const tensorsBefore = tf.memory().numTensors;
    const probe = await CLIPTextModelWithProjection.fromPretrained(CLIP_TEXT_SMALL_FOLDER, options);
    const weightBytes = tf.memory().numBytes - bytesBefore;
    const weightTensors = tf.memory().numTensors - tensorsBefore;
    probe.dispose();
    const load = await best(async () => (await CLIPTextModelWithProjection.fromPretrained(CLIP_TEXT_SMALL_FOLDER, options)).dispose(), 5);

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
    rows.push(`| ${item} | ${load.toFixed(1)} | ${(weightBytes / 2 ** 20).toFixed(2)} MiB in ${weightTensors} tensors | ${plain.toFixed(1)} | ${withStates.toFixed(1)} |`);
  }
  console.log(
    [
      '| backend | fromPretrained ms | weights held | encode [4, 77] ms | with hidden states ms |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
    ].join('\n'),
  );
});
