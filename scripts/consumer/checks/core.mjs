// Consumer check for @diffusion-ts/core alone (tfjs-core + cpu backend from the registry).
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import * as core from '@diffusion-ts/core';
import { check, expect, finish } from './harness.mjs';

await check('initBackend(cpu)', async () => {
  const name = await core.initBackend('cpu');
  expect(name === 'cpu' && tf.getBackend() === 'cpu', `got ${name}/${tf.getBackend()}`);
});
await check('parseConfig / serializeConfig round trip', () => {
  const schema = { sampleSize: { kind: 'integer' }, blockTypes: { kind: 'string[]' } };
  const defaults = { sampleSize: 8, blockTypes: ['A'] };
  const parsed = core.parseConfig({ _class_name: 'Thing', sample_size: 16, extra_key: 1 }, schema, defaults, 'Thing');
  expect(parsed.options.sampleSize === 16, 'sample_size not parsed');
  expect(parsed.warnings.length >= 1, 'unknown key gave no warning');
  const json = core.serializeConfig(parsed.options, schema, 'Thing');
  expect(json._class_name === 'Thing' && json.sample_size === 16, JSON.stringify(json));
});
await check('ConfigError names the key', () => {
  try {
    core.parseConfig({ sample_size: 'big' }, { sampleSize: { kind: 'integer' } }, { sampleSize: 8 }, 'Thing');
  } catch (error) {
    expect(error instanceof core.ConfigError && /sample_size|sampleSize/.test(error.message), error.message);
    return;
  }
  throw new Error('no error thrown');
});
await check('upsampleNearest', () => {
  const out = tf.tidy(() => core.upsampleNearest(tf.ones([1, 2, 2, 1]), 2));
  expect(out.shape.join() === '1,4,4,1', `shape ${out.shape}`);
  out.dispose();
});
await check('Generator + randn are deterministic', () => {
  expect(typeof core.Generator === 'function' && typeof core.randn === 'function', 'Generator/randn not exported');
  const a = core.randn([2, 3], new core.Generator(42));
  const b = core.randn([2, 3], new core.Generator(42));
  const same = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]) === 0;
  tf.dispose([a, b]);
  expect(same, 'same seed, different numbers');
});
await check('readSafetensors on the tiny fixture', async () => {
  expect(typeof core.readSafetensors === 'function', 'readSafetensors not exported');
  const file = core.readSafetensors(new Uint8Array(await readFile('./model/diffusion_pytorch_model.safetensors')));
  const count = Object.keys(file.tensors).length;
  expect(count === 144, `${count} tensors`);
  return `${count} tensors`;
});
await check('openPretrained reads config.json', async () => {
  expect(typeof core.openPretrained === 'function', 'openPretrained not exported');
  const json = await core.openPretrained('./model').readJson('config.json');
  expect(json._class_name === 'UNet2DModel', JSON.stringify(json).slice(0, 80));
});
finish();
