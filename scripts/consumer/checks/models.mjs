// Consumer check for @diffusion-ts/models: loads the tiny Diffusers fixture folder, runs it,
// compares with the reference output sum, saves and reloads.
import { readFile, rm } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '@diffusion-ts/core';
import { UNet2DModel } from '@diffusion-ts/models';
import { check, expect, finish } from './harness.mjs';

await initBackend('cpu');
/** io.json's input rule: float32(sin(0.1 k + 0.5)) over NCHW [2,3,16,16], then NHWC. */
function referenceInput() {
  const data = new Float32Array(2 * 3 * 16 * 16);
  for (let k = 0; k < data.length; k += 1) data[k] = Math.sin(0.1 * k + 0.5);
  return tf.tidy(() => tf.transpose(tf.tensor4d(data, [2, 3, 16, 16]), [0, 2, 3, 1]));
}
let model;
let firstSum;
await check('UNet2DModel.fromPretrained(./model)', async () => {
  model = await UNet2DModel.fromPretrained('./model');
  return `${model.parameterCount} parameters`;
});
await check('predict matches the Diffusers output sum', async () => {
  const reference = JSON.parse(await readFile('./model/io.json', 'utf8')).output;
  const input = referenceInput();
  const output = model.predict(input, tf.tensor1d([10, 999], 'int32'));
  expect(output.shape.join() === '2,16,16,3', `shape ${output.shape}`);
  const [sum] = tf.tidy(() => tf.sum(output).dataSync());
  firstSum = sum;
  tf.dispose([input, output]);
  expect(Math.abs(sum - reference.sum) < 1e-2, `sum ${sum} vs ${reference.sum}`);
  return `sum ${sum.toFixed(5)} vs ${reference.sum.toFixed(5)}`;
});
await check('save + fromPretrained round trip', async () => {
  await rm('./saved', { recursive: true, force: true });
  await model.save('./saved');
  const again = await UNet2DModel.fromPretrained('./saved');
  const input = referenceInput();
  const output = again.predict(input, tf.tensor1d([10, 999], 'int32'));
  const [sum] = tf.tidy(() => tf.sum(output).dataSync());
  tf.dispose([input, output]);
  again.dispose();
  expect(sum === firstSum, `reloaded sum ${sum} vs ${firstSum}`);
});
await check('fromConfig random init', () => {
  const config = JSON.parse(JSON.stringify(model.config));
  const fresh = UNet2DModel.fromConfig(config, { seed: 0 });
  expect(fresh.parameterCount === model.parameterCount, `${fresh.parameterCount} vs ${model.parameterCount}`);
  fresh.dispose();
});
model?.dispose();
finish();
