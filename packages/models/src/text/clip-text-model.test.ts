import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, readSafetensors, writeSafetensors, type SafetensorsTensor } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIP_TEXT_SMALL_FOLDER, maxRelativeError, readClipTextIo, type ClipTextIo } from '../testing/clip-fixtures.js';
import { maxAbsDifference } from '../testing/fixtures.js';
import { WeightsError } from '../weights.js';
import { CLIPTextModel, CLIPTextModelWithProjection } from './clip-text-model.js';
import { TextInputError } from './text-inputs.js';

const TOLERANCE = 1e-4;
const quiet = { onWarning: () => {} };

/** A temporary folder holding the fixture's text encoder with `config.json` edited by `edit`. */
async function editedFolder(edit: (config: Record<string, unknown>) => void): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'clip-text-'));
  const config = JSON.parse(await readFile(join(CLIP_TEXT_SMALL_FOLDER, 'text_encoder/config.json'), 'utf8')) as Record<string, unknown>;
  edit(config);
  await writeFile(join(folder, 'config.json'), JSON.stringify(config));
  await writeFile(join(folder, 'model.safetensors'), await readFile(join(CLIP_TEXT_SMALL_FOLDER, 'text_encoder/model.safetensors')));
  return folder;
}

describe.each(testBackendNames())('CLIP text encoder on %s', (backend) => {
  let io: ClipTextIo;
  let model: CLIPTextModelWithProjection;
  let ids: tf.Tensor2D;

  beforeAll(async () => {
    await initBackend(backend);
    io = readClipTextIo();
    model = await CLIPTextModelWithProjection.fromPretrained(CLIP_TEXT_SMALL_FOLDER, { subfolder: 'text_encoder' });
    ids = tf.tensor2d(
      io.tokenizer_cases.slice(0, 4).map((c) => c.input_ids),
      undefined,
      'int32',
    );
  });

  afterAll(() => {
    model.dispose();
    ids.dispose();
  });

  it('matches OpenAI CLIP on last, pooled, projected and every hidden state', () => {
    const before = tf.memory().numTensors;
    const output = model.encode(ids, { outputHiddenStates: true });
    const errors = {
      lastHiddenState: maxRelativeError(output.lastHiddenState, io.outputs.last_hidden_state),
      poolerOutput: maxRelativeError(output.poolerOutput, io.outputs.pooler_output),
      textEmbeds: maxRelativeError(output.textEmbeds, io.outputs.text_embeds),
      ...Object.fromEntries(
        output.hiddenStates!.map((state, i) => [`hiddenStates[${i}]`, maxRelativeError(state, io.outputs.hidden_states[i])]),
      ),
    };
    console.log(`clip_text_small parity on ${backend}: ${JSON.stringify(errors)}`);
    for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThan(TOLERANCE);
    expect(output.hiddenStates).toHaveLength(3);
    tf.dispose([output.lastHiddenState, output.poolerOutput, output.textEmbeds, ...output.hiddenStates!]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps only the requested tensors: without hidden states, one pass adds exactly its outputs', () => {
    const before = tf.memory().numTensors;
    const output = model.encode(ids);
    expect(output.hiddenStates).toBeUndefined();
    expect(tf.memory().numTensors).toBe(before + 3);
    tf.dispose([output.lastHiddenState, output.poolerOutput, output.textEmbeds]);
  });

  it('gives the clip-skip building block: final_layer_norm of the last hidden state is lastHiddenState', () => {
    const output = model.encode(ids, { outputHiddenStates: true });
    const states = output.hiddenStates!;
    const again = model.applyFinalLayerNorm(states[states.length - 1]);
    expect(maxAbsDifference(again, output.lastHiddenState)).toBe(0);
    const skipped = model.applyFinalLayerNorm(states[states.length - 2]);
    expect(maxAbsDifference(skipped, output.lastHiddenState)).toBeGreaterThan(1e-3);
    tf.dispose([again, skipped, output.lastHiddenState, output.poolerOutput, output.textEmbeds, ...states]);
  });

  it('loads the same folder as CLIPTextModel (the projection reported unused) with identical outputs', async () => {
    const warnings: string[] = [];
    const plain = await CLIPTextModel.fromPretrained(CLIP_TEXT_SMALL_FOLDER, {
      subfolder: 'text_encoder',
      onWarning: (m) => warnings.push(m),
    });
    expect(warnings.join('\n')).toMatch(/weight 'text_projection\.weight' is not used by CLIPTextModel/);
    const a = plain.encode(ids);
    const b = model.encode(ids);
    expect(maxAbsDifference(a.lastHiddenState, b.lastHiddenState)).toBe(0);
    expect(maxAbsDifference(a.poolerOutput, b.poolerOutput)).toBe(0);
    expect(plain.parameterCount).toBe(model.parameterCount - 8 * 32);
    tf.dispose([a.lastHiddenState, a.poolerOutput, b.lastHiddenState, b.poolerOutput, b.textEmbeds]);
    plain.dispose();
  });

  it('pools at the same token under both eos_token_id conventions for standard ids', async () => {
    const folder = await editedFolder((config) => {
      config.eos_token_id = 2;
      config.bos_token_id = 0;
    });
    const legacy = await CLIPTextModelWithProjection.fromPretrained(folder);
    expect(legacy.config.eosTokenId).toBe(2);
    const a = legacy.encode(ids);
    expect(maxRelativeError(a.poolerOutput, io.outputs.pooler_output)).toBeLessThan(TOLERANCE);
    tf.dispose([a.lastHiddenState, a.poolerOutput, a.textEmbeds]);
    legacy.dispose();
    await rm(folder, { recursive: true, force: true });
  });

  it('applies an attention mask on top of the causal mask', () => {
    const row = tf.tensor2d([io.tokenizer_cases[0].input_ids.slice(0, 12)], undefined, 'int32');
    const ones = tf.ones([1, 12], 'int32') as tf.Tensor2D;
    // Masking the trailing padding changes nothing before it (causal attention never looks ahead).
    const padding = tf.tensor2d([[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]], undefined, 'int32');
    // Masking token 3 changes every later position, never an earlier one.
    const hole = tf.tensor2d([[1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1]], undefined, 'int32');
    const plain = model.encode(row);
    const withOnes = model.encode(row, { attentionMask: ones });
    const padded = model.encode(row, { attentionMask: padding });
    const holed = model.encode(row, { attentionMask: hole });
    expect(maxAbsDifference(plain.lastHiddenState, withOnes.lastHiddenState)).toBe(0);
    const slice = (t: tf.Tensor3D, from: number, to: number) => tf.slice(t, [0, from, 0], [1, to - from, -1]);
    const parts = tf.tidy(() => [
      maxAbsDifference(slice(plain.lastHiddenState, 0, 10), slice(padded.lastHiddenState, 0, 10)),
      maxAbsDifference(slice(plain.lastHiddenState, 10, 12), slice(padded.lastHiddenState, 10, 12)),
      maxAbsDifference(slice(plain.lastHiddenState, 0, 3), slice(holed.lastHiddenState, 0, 3)),
      maxAbsDifference(slice(plain.lastHiddenState, 4, 12), slice(holed.lastHiddenState, 4, 12)),
    ]);
    expect(parts[0]).toBe(0);
    expect(parts[1]).toBeGreaterThan(1e-4);
    expect(parts[2]).toBe(0);
    expect(parts[3]).toBeGreaterThan(1e-4);
    for (const output of [plain, withOnes, padded, holed]) tf.dispose([output.lastHiddenState, output.poolerOutput, output.textEmbeds]);
    tf.dispose([row, ones, padding, hole]);
  });

  it('refuses bad ids and masks with a TextInputError, leaking nothing', () => {
    const before = tf.memory().numTensors;
    const cases: [tf.Tensor, RegExp][] = [
      [tf.tensor1d([49406, 49407], 'int32'), /rank 2.*reshape it to \[1, S\]/],
      [tf.tensor3d([[[1]]], undefined, 'int32'), /rank 2/],
      [tf.tensor2d([[49406, 49408]], undefined, 'int32'), /token id 49408 at \[0, 1\] is outside the vocabulary \[0, 49408\)/],
      [tf.tensor2d([[49406, -1]], undefined, 'int32'), /token id -1 at \[0, 1\]/],
      [tf.tensor2d([[1.5]], undefined, 'float32'), /token id 1\.5/],
      [tf.zeros([1, 78], 'int32'), /78 tokens are longer than max_position_embeddings = 77/],
      [tf.zeros([0, 5], 'int32'), /must not be empty/],
    ];
    for (const [input, message] of cases) {
      expect(() => model.encode(input as tf.Tensor2D)).toThrow(TextInputError);
      expect(() => model.encode(input as tf.Tensor2D)).toThrow(message);
    }
    const row = tf.tensor2d([[49406, 320, 49407]], undefined, 'int32');
    const wrongShape = tf.ones([1, 4], 'int32') as tf.Tensor2D;
    const wrongValues = tf.tensor2d([[1, 2, 1]], undefined, 'int32');
    expect(() => model.encode(row, { attentionMask: wrongShape })).toThrow(/attentionMask must have the shape of inputIds \[1, 3\]/);
    expect(() => model.encode(row, { attentionMask: wrongValues })).toThrow(/values must be 0 or 1, got 2 at \[0, 1\]/);
    tf.dispose([...cases.map(([input]) => input), row, wrongShape, wrongValues]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('saves a transformers folder and loads it back bit-exactly', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'clip-save-'));
    await model.save(join(folder, 'text_encoder'));
    const config = JSON.parse(await readFile(join(folder, 'text_encoder/config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.architectures).toEqual(['CLIPTextModelWithProjection']);
    expect(config.model_type).toBe('clip_text_model');
    expect(config._class_name).toBeUndefined();
    expect(config.hidden_act).toBe('quick_gelu');
    const text = await readFile(join(folder, 'text_encoder/config.json'), 'utf8');
    expect(text).toMatch(/"attention_dropout": 0\.0/);
    const saved = readSafetensors(new Uint8Array(await readFile(join(folder, 'text_encoder/model.safetensors'))));
    expect(saved.metadata.format).toBe('pt');
    expect(Object.keys(saved.tensors).sort()).toEqual(model.parameterNames().sort());
    const loaded = await CLIPTextModelWithProjection.fromPretrained(folder, { subfolder: 'text_encoder' });
    const a = model.encode(ids);
    const b = loaded.encode(ids);
    expect(maxAbsDifference(a.textEmbeds, b.textEmbeds)).toBe(0);
    expect(maxAbsDifference(a.lastHiddenState, b.lastHiddenState)).toBe(0);
    tf.dispose([a.lastHiddenState, a.poolerOutput, a.textEmbeds, b.lastHiddenState, b.poolerOutput, b.textEmbeds]);
    loaded.dispose();
    await rm(folder, { recursive: true, force: true });
  });
});

describe('CLIP text encoder loading', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('names the config key that does not fit the weights', async () => {
    const cases: [(config: Record<string, unknown>) => void, RegExp][] = [
      [
        (c) => (c.hidden_size = 64),
        /config hidden_size = 64 but 'text_model\.embeddings\.token_embedding\.weight' has shape \[49408, 32\]/,
      ],
      [(c) => (c.vocab_size = 1000), /config vocab_size = 1000 but .* \(vocab_size 49408\)/],
      [(c) => (c.num_hidden_layers = 1), /config num_hidden_layers = 1 but the weights hold 2 encoder layers/],
      [(c) => (c.num_hidden_layers = 3), /config num_hidden_layers = 3 but the weights hold 2 encoder layers/],
      [(c) => (c.intermediate_size = 64), /config intermediate_size = 64/],
      [(c) => (c.projection_dim = 16), /config projection_dim = 16 but 'text_projection\.weight' has shape \[8, 32\]/],
      [(c) => (c.max_position_embeddings = 64), /config max_position_embeddings = 64/],
    ];
    for (const [edit, message] of cases) {
      const folder = await editedFolder(edit);
      const before = tf.memory().numTensors;
      const error = await CLIPTextModelWithProjection.fromPretrained(folder, quiet).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(WeightsError);
      expect((error as Error).message).toMatch(message);
      expect(tf.memory().numTensors).toBe(before);
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('lists missing weights by name (a projection model from a CLIPTextModel checkpoint)', async () => {
    const plain = CLIPTextModel.fromConfig({
      hiddenSize: 8,
      intermediateSize: 16,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      vocabSize: 50,
      maxPositionEmbeddings: 7,
    });
    const folder = await mkdtemp(join(tmpdir(), 'clip-plain-'));
    await plain.save(folder);
    await expect(CLIPTextModelWithProjection.fromPretrained(folder)).rejects.toThrow(/1 missing: text_projection\.weight/);
    plain.dispose();
    await rm(folder, { recursive: true, force: true });
  });

  it('refuses bad configs with a ConfigError naming the key, before allocating', () => {
    expect(() => CLIPTextModel.fromConfig({ hidden_size: 30, num_attention_heads: 4 })).toThrow(
      /'hidden_size' \(30\) must be divisible by num_attention_heads \(4\)/,
    );
    expect(() => CLIPTextModel.fromConfig({ hidden_act: 'tanh' })).toThrow(/'hidden_act' has unknown value 'tanh'/);
    expect(() => CLIPTextModel.fromConfig({ vocab_size: 0 })).toThrow(/'vocab_size' must be >= 1, got 0/);
    expect(() => CLIPTextModel.fromConfig({ vocab_size: 1e9, hidden_size: 1024 })).toThrow(/too large/);
    expect(() => CLIPTextModel.fromConfig({ layer_norm_eps: 'x' })).toThrow(/'layer_norm_eps' must be a number/);
  });

  it('reads a full CLIPConfig text_config, warns on unknown keys and keeps transformers bookkeeping', () => {
    const warnings: string[] = [];
    const model = CLIPTextModel.fromConfig(
      {
        model_type: 'clip',
        text_config: {
          hidden_size: 8,
          intermediate_size: 16,
          num_hidden_layers: 1,
          num_attention_heads: 2,
          vocab_size: 40,
          max_position_embeddings: 6,
          transformers_version: '4.22.0',
          mystery: 1,
        },
        vision_config: {},
      },
      { onWarning: (m) => warnings.push(m) },
    );
    expect(model.config.hiddenSize).toBe(8);
    expect(warnings).toEqual(["CLIPTextModel: unknown config key 'mystery' was not used"]);
    const config = model.toConfig();
    expect(config.transformers_version).toBe('4.22.0');
    expect(config.mystery).toBe(1);
    model.dispose();
  });

  it('reads fp16 and bf16 weights (variant files) widened to float32', async () => {
    const source = readSafetensors(new Uint8Array(await readFile(join(CLIP_TEXT_SMALL_FOLDER, 'text_encoder/model.safetensors'))));
    const folder = await mkdtemp(join(tmpdir(), 'clip-fp16-'));
    await writeFile(join(folder, 'config.json'), await readFile(join(CLIP_TEXT_SMALL_FOLDER, 'text_encoder/config.json')));
    for (const dtype of ['F16', 'BF16'] as const) {
      const narrowed: Record<string, SafetensorsTensor> = {};
      for (const [name, tensor] of Object.entries(source.tensors)) narrowed[name] = { ...tensor, dtype };
      const bytes = writeSafetensors(narrowed, { format: 'pt' });
      await writeFile(join(folder, `model.${dtype.toLowerCase()}.safetensors`), bytes);
      const expected = readSafetensors(bytes).tensors;
      const model = await CLIPTextModelWithProjection.fromPretrained(folder, { variant: dtype.toLowerCase() });
      const exported = await model.exportWeights();
      for (const [name, tensor] of Object.entries(exported)) {
        const want = expected[name].data as Float32Array;
        let differing = tensor.data.length === want.length ? 0 : -1;
        for (let i = 0; i < want.length && differing >= 0; i += 1) if (tensor.data[i] !== want[i]) differing += 1;
        expect(differing, `${dtype} ${name}`).toBe(0);
      }
      model.dispose();
    }
    // A LoadError naming the file, and every name tried (the file, its shard index).
    await expect(CLIPTextModelWithProjection.fromPretrained(folder)).rejects.toThrow(/cannot load .*model\.safetensors: file not found/);
    await expect(CLIPTextModelWithProjection.fromPretrained(folder)).rejects.toThrow(
      /no weights found \(looked for model\.safetensors, model\.safetensors\.index\.json\)/,
    );
    await rm(folder, { recursive: true, force: true });
  });

  it('loads from an http(s) base URL (a local server)', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((request, response) => {
      const path = join(CLIP_TEXT_SMALL_FOLDER, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
      readFile(path).then(
        (body) => response.writeHead(200, { 'content-length': body.length }).end(body),
        () => response.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const model = await CLIPTextModelWithProjection.fromPretrained(`http://127.0.0.1:${port}`, { subfolder: 'text_encoder' });
      expect(model.parameterCount).toBe(
        49408 * 32 + 77 * 32 + 2 * (4 * (32 * 32 + 32) + 2 * 64 + 32 * 128 + 128 + 128 * 32 + 32) + 64 + 8 * 32,
      );
      model.dispose();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
