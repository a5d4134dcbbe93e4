// Consumer check for @diffusion-ts/losses together with @diffusion-ts/schedulers.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '@diffusion-ts/core';
import { DDPMScheduler } from '@diffusion-ts/schedulers';
import * as losses from '@diffusion-ts/losses';
import { check, expect, finish } from './harness.mjs';

await initBackend('cpu');
const scheduler = new DDPMScheduler({ numTrainTimesteps: 1000 });

await check('lSimple is zero for a perfect epsilon prediction', () => {
  expect(typeof losses.lSimple === 'function', 'lSimple not exported');
  const value = tf.tidy(() => {
    const x0 = tf.randomNormal([2, 4, 4, 1], 0, 1, 'float32', 3);
    const noise = tf.randomNormal([2, 4, 4, 1], 0, 1, 'float32', 4);
    const loss = losses.lSimple(noise, { x0, noise, timesteps: [10, 500], scheduler });
    return tf.sum(loss).dataSync()[0];
  });
  expect(Math.abs(value) < 1e-6, `loss ${value}`);
  return `loss ${value}`;
});
await check('lSimple is positive for a wrong prediction', () => {
  const value = tf.tidy(() => {
    const x0 = tf.randomNormal([2, 4, 4, 1], 0, 1, 'float32', 3);
    const noise = tf.randomNormal([2, 4, 4, 1], 0, 1, 'float32', 4);
    return tf.sum(losses.lSimple(tf.zerosLike(noise), { x0, noise, timesteps: [10, 500], scheduler })).dataSync()[0];
  });
  expect(value > 0.1, `loss ${value}`);
});
await check('normalKl of identical Gaussians is zero', () => {
  expect(typeof losses.normalKl === 'function', 'normalKl not exported');
  const value = tf.tidy(() => {
    const mean = tf.tensor1d([0.5, -1]);
    const logVariance = tf.tensor1d([0.1, -0.3]);
    return tf.max(tf.abs(losses.normalKl(mean, logVariance, mean, logVariance))).dataSync()[0];
  });
  expect(Math.abs(value) < 1e-6, `kl ${value}`);
});
for (const name of [
  'approxStandardNormalCdf',
  'discretizedGaussianLogLikelihood',
  'qPosteriorMeanVariance',
  'pMeanVariance',
  'vlbTerms',
  'priorBpd',
  'bitsPerDim',
  'lHybrid',
]) {
  await check(`exports ${name}`, () => expect(typeof losses[name] === 'function', `${name} not exported`));
}
finish();
