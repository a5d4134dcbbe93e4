import { initBackend } from '@diffusion-ts/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMALL_UNET_2D } from './testing/index.js';
import { UNet2DModel } from './unet-2d.js';

/** Fixed images, noise and timesteps; x_t from a linear-beta schedule at T = 1000 (computed inline). */
function noisyBatch(batch: number, size: number, channels: number) {
  return tf.tidy(() => {
    const shape: [number, number, number, number] = [batch, size, size, channels];
    const x0 = tf.reshape(tf.sin(tf.mul(tf.range(0, batch * size * size * channels), 0.37)), shape) as tf.Tensor4D;
    const noise = tf.reshape(tf.cos(tf.mul(tf.range(0, batch * size * size * channels), 1.71)), shape) as tf.Tensor4D;
    const timesteps = [10, 250, 600, 990].slice(0, batch);
    const alphaBars = timesteps.map((t) => {
      let product = 1;
      for (let i = 0; i <= t; i += 1) product *= 1 - (1e-4 + ((0.02 - 1e-4) * i) / 999);
      return product;
    });
    const a = tf.tensor4d(alphaBars.map(Math.sqrt), [batch, 1, 1, 1]);
    const b = tf.tensor4d(
      alphaBars.map((value) => Math.sqrt(1 - value)),
      [batch, 1, 1, 1],
    );
    const xt = tf.add(tf.mul(a, x0), tf.mul(b, noise)) as tf.Tensor4D;
    return { xt, noise, timesteps: tf.tensor1d(timesteps, 'int32') };
  });
}

describe('UNet2DModel training on cpu', () => {
  let model: UNet2DModel;
  let batch: ReturnType<typeof noisyBatch>;

  beforeAll(async () => {
    await initBackend('cpu');
    model = UNet2DModel.fromConfig(SMALL_UNET_2D, { seed: 1 });
    batch = noisyBatch(4, 8, 3);
  });

  afterAll(() => {
    model.dispose();
    tf.dispose(batch);
  });

  const loss = () => tf.mean(tf.square(tf.sub(model.predict(batch.xt, batch.timesteps), batch.noise))) as tf.Scalar;

  it('sends a non-zero gradient to every trainable variable', () => {
    const variables = model.trainableVariables();
    const { value, grads } = tf.variableGrads(loss, variables);
    const names = model.parameterNames();
    const zero: string[] = [];
    variables.forEach((variable, i) => {
      const gradient = grads[variable.name];
      if (!gradient || tf.tidy(() => tf.max(tf.abs(gradient)).dataSync()[0]) === 0) zero.push(names[i]);
    });
    expect(zero).toEqual([]);
    expect(Object.keys(grads)).toHaveLength(variables.length);
    tf.dispose([value, ...Object.values(grads)]);
  });

  it('leaves no tensors behind after a forward pass', () => {
    const before = tf.memory().numTensors;
    tf.dispose(model.predict(batch.xt, 500));
    tf.dispose(model.predict(batch.xt, batch.timesteps));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fits 4 fixed images: the noise-prediction loss falls at least 10x with Adam', () => {
    const optimizer = tf.train.adam(3e-3);
    const variables = model.trainableVariables();
    const first = tf.tidy(() => loss().dataSync()[0]);
    // The first step creates Adam's moment variables; after it, a step leaves the count unchanged.
    tf.dispose(optimizer.minimize(loss, true, variables) ?? []);
    const afterFirstStep = tf.memory().numTensors;
    let last = first;
    let steps = 1;
    const started = Date.now();
    for (let step = 1; step < 150; step += 1) {
      const value = optimizer.minimize(loss, true, variables)!;
      last = value.dataSync()[0];
      value.dispose();
      steps = step + 1;
      if (last < first / 12) break;
    }
    expect(tf.memory().numTensors).toBe(afterFirstStep);
    console.log(
      `overfit: loss ${first.toFixed(4)} -> ${last.toFixed(5)} in ${steps} steps, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(last).toBeLessThan(first / 10);
    optimizer.dispose();
  });
});
