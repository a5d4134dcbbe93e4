import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParameterStore } from '../parameters/parameter-store.js';
import { readFixtureJson, type FixtureArray } from '../testing/fixtures.js';
import { Attention } from './attention.js';
import { Downsample2D } from './downsample-2d.js';
import { GroupNorm } from './group-norm.js';
import { Timesteps } from './timesteps.js';

interface Activations {
  intermediate_activations: { time_proj: { first_16: FixtureArray; sum: number } };
}

describe.each(testBackendNames())('blocks on %s', (backend) => {
  beforeAll(() => initBackend(backend));

  it('Timesteps matches Diffusers time_proj for t = [10, 999]', () => {
    const { time_proj: expected } = readFixtureJson<Activations>('io.json').intermediate_activations;
    const projection = new Timesteps({ numChannels: 32, flipSinToCos: true, downscaleFreqShift: 0 });
    const embedding = tf.tidy(() => projection.apply(tf.tensor1d([10, 999])));
    const values = embedding.dataSync();
    expected.first_16.data.forEach((value, i) => expect(Math.abs(values[i] - value)).toBeLessThan(1e-5));
    const sum = Array.from(values).reduce((total, value) => total + value, 0);
    expect(Math.abs(sum - expected.sum)).toBeLessThan(1e-4);
    embedding.dispose();
  });

  it('Timesteps without flip puts sines first and pads odd widths', () => {
    const projection = new Timesteps({ numChannels: 5, flipSinToCos: false, downscaleFreqShift: 1 });
    const embedding = tf.tidy(() => projection.apply(tf.tensor1d([0])));
    expect(Array.from(embedding.dataSync())).toEqual([0, 0, 1, 1, 0]);
    embedding.dispose();
  });

  it('GroupNorm normalises each group over H, W and its channels', () => {
    const store = new ParameterStore(0);
    const norm = new GroupNorm(store.scope('n'), 2, 4, 1e-5);
    const result = tf.tidy(() => {
      const x = tf.reshape(tf.range(0, 2 * 3 * 3 * 4, 1, 'float32'), [2, 3, 3, 4]) as tf.Tensor4D;
      const y = norm.apply(tf.mul(tf.square(x), 0.01) as tf.Tensor4D);
      // Group 0 = channels 0-1 of batch item 0.
      const group = tf.slice(y, [0, 0, 0, 0], [1, 3, 3, 2]);
      const mean = tf.mean(group);
      const variance = tf.mean(tf.square(tf.sub(group, mean)));
      return [mean.dataSync()[0], variance.dataSync()[0]];
    });
    expect(Math.abs(result[0])).toBeLessThan(1e-5);
    expect(Math.abs(result[1] - 1)).toBeLessThan(1e-3);
    store.dispose();
  });

  it('Downsample2D pads one pixel on every side like PyTorch', () => {
    const store = new ParameterStore(0);
    const down = new Downsample2D(store.scope('d'), 1, 1, 1);
    down.conv.weight.assign(tf.ones([3, 3, 1, 1]));
    down.conv.bias!.assign(tf.zeros([1]));
    const y = tf.tidy(() => down.apply(tf.ones([1, 4, 4, 1]) as tf.Tensor4D));
    // Output (0,0) covers rows/cols -1..1 (4 real pixels); (1,1) covers 1..3 (9 real pixels).
    expect(Array.from(y.dataSync())).toEqual([4, 6, 6, 9]);
    y.dispose();
    store.dispose();
  });

  it('Attention is multi-head: heads see separate channel groups', () => {
    const store = new ParameterStore(5);
    const attention = new Attention(store.scope('a'), { queryDim: 8, heads: 2, dimHead: 4, bias: true, crossAttentionDim: 6 });
    const before = tf.memory().numTensors;
    const out = tf.tidy(() =>
      attention.apply(
        tf.randomNormal([2, 5, 8], 0, 1, 'float32', 1) as tf.Tensor3D,
        tf.randomNormal([2, 3, 6], 0, 1, 'float32', 2) as tf.Tensor3D,
      ),
    );
    expect(out.shape).toEqual([2, 5, 8]);
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    store.dispose();
  });
});
