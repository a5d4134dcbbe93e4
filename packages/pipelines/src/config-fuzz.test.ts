/**
 * Config fuzz (issue 17): 1,500 mutated `config.json` (both UNets, the VAE, the CLIP text
 * encoder) and `scheduler_config.json` files (every scheduler class), as objects and as text,
 * each of which must end within a time bound in a ConfigError or in a valid object that builds
 * within the budget (a scheduler with finite ᾱ in [0, 1]), with no tensors left behind either
 * way. Seeded: a failure names its case and replays.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, initBackend, parseJsonText, toSnakeCase, type ConfigJson, type ConfigValue } from '@diffusion-ts/core';
import { AutoencoderKL, CLIPTextModelWithProjection, UNet2DConditionModel, UNet2DModel } from '@diffusion-ts/models';
import {
  DDIMScheduler,
  DDPMScheduler,
  DPMSolverMultistepScheduler,
  EulerDiscreteScheduler,
  FlowMatchEulerDiscreteScheduler,
  LCMScheduler,
  PNDMScheduler,
  UniPCMultistepScheduler,
  schedulerFromConfig,
  type Scheduler,
} from '@diffusion-ts/schedulers';
import { TINY_CONDITION_UNET, TINY_UNET } from '@diffusion-ts/models/testing';

/** A small seeded generator (xorshift128+ folded to doubles in [0, 1)). */
function random(seed: number): () => number {
  let a = BigInt(seed) | 1n;
  let b = 0x9e3779b97f4a7c15n;
  const mask = (1n << 64n) - 1n;
  return () => {
    let x = a;
    const y = b;
    a = y;
    x ^= (x << 23n) & mask;
    b = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return Number(((b + y) & mask) >> 11n) / 2 ** 53;
  };
}

const ODD_NUMBERS = [
  -1,
  0,
  -0,
  1,
  2,
  3,
  7,
  0.5,
  -8,
  1e-300,
  1e-7,
  1.5,
  31,
  32,
  33,
  1e3,
  65536,
  1e6,
  1e7,
  1e9,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  1e300,
  -1e300,
];
const ODD_STRINGS = [
  '',
  'linear',
  'silu',
  'DownBlock2D',
  'CrossAttnDownBlock2D',
  'UNetMidBlock2D',
  'epsilon',
  'leading',
  'x'.repeat(1000),
  '__proto__',
  'constructor',
];
const JUNK_KEYS = ['__proto__', 'constructor', 'prototype', '_class_name', '_diffusers_version', 'unknown_key', ''];

function deep(depth: number, leaf: ConfigValue): ConfigValue {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** A value of some odd kind (nested at most `maxDepth` deep). */
function oddValue(next: () => number, maxDepth = 200_000): ConfigValue {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  switch (Math.floor(next() * 9)) {
    case 0:
    case 1:
      return pick(ODD_NUMBERS);
    case 2:
      return pick(ODD_STRINGS);
    case 3:
      return pick([true, false, null]);
    case 4:
      return Array.from({ length: Math.floor(next() * 6) }, () => pick(ODD_NUMBERS));
    case 5:
      return Array.from({ length: Math.floor(next() * 5) }, () => pick(ODD_STRINGS));
    case 6:
      return deep(Math.min(maxDepth, pick([2, 10, 100, 10_000, 200_000])), pick([1, 'x', null]));
    case 7:
      return { a: pick(ODD_NUMBERS), nested: [pick(ODD_STRINGS)] };
    default:
      return Math.floor(next() * 64);
  }
}

/** The seed with 1 to 4 keys set to odd values, deleted, or nudged. */
function mutate(seed: ConfigJson, next: () => number, maxDepth?: number): ConfigJson {
  const config: ConfigJson = JSON.parse(JSON.stringify(seed)) as ConfigJson;
  const keys = Object.keys(seed);
  const count = 1 + Math.floor(next() * 4);
  for (let i = 0; i < count; i++) {
    const key = next() < 0.85 ? keys[Math.floor(next() * keys.length)] : JUNK_KEYS[Math.floor(next() * JUNK_KEYS.length)];
    const action = next();
    const current = config[key];
    if (action < 0.1) delete config[key];
    else if (action < 0.3 && typeof current === 'number') config[key] = current * [-1, 0, 2, 1000, 0.5][Math.floor(next() * 5)];
    else if (action < 0.4 && Array.isArray(current) && current.length > 0) {
      const copy = [...current];
      copy[Math.floor(next() * copy.length)] = oddValue(next, maxDepth);
      config[key] = next() < 0.3 ? [...copy, oddValue(next, maxDepth)] : copy;
    } else Object.defineProperty(config, key, { value: oddValue(next, maxDepth), enumerable: true, writable: true, configurable: true });
  }
  return config;
}

/** Text edits: a flipped, dropped or inserted character, or a cut. */
function mutateText(text: string, next: () => number): string {
  const at = Math.floor(next() * (text.length + 1));
  switch (Math.floor(next() * 4)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + text.slice(at + 1);
    case 2:
      return text.slice(0, at) + '{["\\:,-e.0'[Math.floor(next() * 11)] + text.slice(at);
    default:
      return text.slice(0, at) + '['.repeat(100_000) + text.slice(at);
  }
}

type Outcome = 'typed error' | 'accepted';

/** A shared test config (camelCase) as a Diffusers `config.json` (snake_case), so each key appears once in a seed. */
function diffusersKeys(config: object): ConfigJson {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [toSnakeCase(key), value as ConfigValue]));
}

const MODEL_BUDGET = { maxParameters: 2e5, maxActivationBytes: 2 ** 28 };

type Kind = 'unet' | 'condition' | 'vae' | 'clip' | 'scheduler';

const MODELS = { unet: UNet2DModel, condition: UNet2DConditionModel, vae: AutoencoderKL, clip: CLIPTextModelWithProjection } as const;

/** A β scheduler's ᾱ_t all finite and in [0, 1] (flow matching has none). */
function expectSaneAlphas(scheduler: Scheduler): void {
  const alphas = (scheduler as Partial<{ alphasCumprod: Float64Array }>).alphasCumprod;
  if (alphas === undefined) return;
  const bad = alphas.findIndex((value) => !(Number.isFinite(value) && value >= 0 && value <= 1));
  expect(bad, `alphasCumprod[${bad}] = ${alphas[bad]}`).toBe(-1);
}

/** Builds what `config` describes: a model (then checked and freed) or a scheduler. */
function build(kind: Kind, config: ConfigJson): void {
  if (kind === 'scheduler') {
    const scheduler = schedulerFromConfig(config);
    try {
      expectSaneAlphas(scheduler);
      const round = schedulerFromConfig(scheduler.toConfig());
      expect(round.config.numTrainTimesteps).toBe(scheduler.config.numTrainTimesteps);
      round.dispose();
    } finally {
      scheduler.dispose();
    }
    return;
  }
  const model = (MODELS[kind] as typeof AutoencoderKL).fromConfig(config, { budget: MODEL_BUDGET, onWarning: () => undefined });
  try {
    expect(model.parameterCount).toBeLessThanOrEqual(MODEL_BUDGET.maxParameters);
    if (model instanceof UNet2DModel || model instanceof UNet2DConditionModel)
      expect(model.estimateMemory().parameters).toBe(model.parameterCount);
  } finally {
    model.dispose();
  }
}

/** Runs one case: a typed error or an accepted object, in bounded time, leaking no tensors. */
function runCase(kind: Kind, config: ConfigJson | string, label: string): Outcome {
  const before = tf.memory().numTensors;
  const started = performance.now();
  let outcome: Outcome = 'accepted';
  try {
    build(kind, typeof config === 'string' ? parseJsonText(config, label) : config);
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw new Error(
        `${label}: expected a ConfigError or an object, got ${(error as Error)?.name}: ${(error as Error)?.message?.slice(0, 300)}`,
        { cause: error },
      );
    }
    expect(error.message.length, `${label}: ${error.message.slice(0, 300)}`).toBeLessThan(600);
    outcome = 'typed error';
  }
  expect(performance.now() - started, `${label} took too long`).toBeLessThan(3000);
  expect(tf.memory().numTensors, `${label} leaked tensors`).toBe(before);
  return outcome;
}

describe('config fuzz', () => {
  beforeAll(() => initBackend('cpu'));

  const SEEDS: Array<[Kind, ConfigJson]> = [
    ['unet', { _class_name: 'UNet2DModel', ...diffusersKeys(TINY_UNET) }],
    [
      'unet',
      {
        _class_name: 'UNet2DModel',
        ...diffusersKeys(TINY_UNET),
        down_block_types: ['DownBlock2D', 'AttnDownBlock2D'],
        up_block_types: ['AttnUpBlock2D', 'UpBlock2D'],
        attention_head_dim: 8,
        num_class_embeds: 3,
        time_embedding_type: 'learned',
        num_train_timesteps: 20,
      },
    ],
    [
      'condition',
      {
        _class_name: 'UNet2DConditionModel',
        ...diffusersKeys(TINY_CONDITION_UNET),
        transformer_layers_per_block: [1, 1],
        layers_per_block: [1, 1],
      },
    ],
    ['scheduler', new DDPMScheduler().toConfig()],
    ['scheduler', new DDIMScheduler({ numTrainTimesteps: 100 }).toConfig()],
    ['scheduler', new PNDMScheduler({ skipPrkSteps: true }).toConfig()],
    [
      'vae',
      {
        _class_name: 'AutoencoderKL',
        block_out_channels: [8, 16],
        down_block_types: ['DownEncoderBlock2D', 'AttnDownEncoderBlock2D'],
        up_block_types: ['AttnUpDecoderBlock2D', 'UpDecoderBlock2D'],
        latent_channels: 2,
        layers_per_block: 1,
        norm_num_groups: 4,
        sample_size: 8,
        scaling_factor: 0.5,
      },
    ],
    [
      'clip',
      {
        architectures: ['CLIPTextModelWithProjection'],
        model_type: 'clip_text_model',
        hidden_size: 16,
        intermediate_size: 32,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        max_position_embeddings: 16,
        vocab_size: 100,
        projection_dim: 8,
        layer_norm_eps: 1e-5,
        hidden_act: 'quick_gelu',
      },
    ],
    ['scheduler', new EulerDiscreteScheduler({ useKarrasSigmas: true }).toConfig()],
    ['scheduler', new DPMSolverMultistepScheduler({ solverOrder: 3 }).toConfig()],
    ['scheduler', new UniPCMultistepScheduler().toConfig()],
    ['scheduler', new LCMScheduler().toConfig()],
    ['scheduler', new FlowMatchEulerDiscreteScheduler({ shift: 3 }).toConfig()],
  ];

  it('ends 1,000 mutated config objects in a typed error or a valid object', () => {
    const next = random(20261126);
    const tally: Record<Outcome, number> = { 'typed error': 0, accepted: 0 };
    for (let i = 0; i < 1000; i++) {
      const [kind, seed] = SEEDS[i % SEEDS.length];
      const config = mutate(seed, next);
      tally[runCase(kind, config, `object case ${i} (${kind})`)] += 1;
    }
    // Both outcomes occur: the mutations reach past the first check.
    expect(tally['typed error']).toBeGreaterThan(200);
    expect(tally.accepted).toBeGreaterThan(100);
  });

  it('ends 500 mutated config texts in a typed error or a valid object', () => {
    const next = random(7);
    const tally: Record<Outcome, number> = { 'typed error': 0, accepted: 0 };
    for (let i = 0; i < 500; i++) {
      const [kind, seed] = SEEDS[i % SEEDS.length];
      // JSON.stringify recurses: values stay shallow here, the text edits add the deep nesting.
      const text = mutateText(JSON.stringify(mutate(seed, next, 100)), next);
      tally[runCase(kind, text, `text case ${i} (${kind})`)] += 1;
    }
    expect(tally['typed error']).toBeGreaterThan(100);
  });
});
