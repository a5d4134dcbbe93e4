import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { registerGradients } from '../init-backend.js';
import { registerWasmTrainingKernels } from './index.js';
import { onCpu, relativeError, sinTensor } from './test-helpers.js';
import { initWasmThreaded } from './wasm-threads.js';

// Vitest runs each test file in its own process, so the wasm backend is not initialised yet here.
describe('initWasmThreaded', () => {
  it('starts tfjs wasm with two threads in Node, and conv gradients still match cpu', async () => {
    await registerGradients();
    await import('@tensorflow/tfjs-backend-cpu');
    const report = await initWasmThreaded({ threads: 2 });
    expect(report.threads).toBe(2);
    expect(tf.getBackend()).toBe('wasm');
    expect(registerWasmTrainingKernels()).toBe(true);

    const gradients = (x: tf.Tensor4D, filter: tf.Tensor4D) =>
      tf.tidy(() => {
        const [dx, dFilter] = tf.grads((input: tf.Tensor, weights: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(input as tf.Tensor4D, weights as tf.Tensor4D, 1, 'same'))),
        )([x, filter]);
        return tf.concat([tf.reshape(dx, [-1]), tf.reshape(dFilter, [-1])]);
      });
    const shapes = { x: [2, 8, 8, 16], filter: [3, 3, 16, 16] };
    const [expected] = await onCpu(() =>
      tf.tidy(() => gradients(sinTensor(shapes.x, 0.4) as tf.Tensor4D, sinTensor(shapes.filter, 0.9, 0.31) as tf.Tensor4D)),
    );
    const x = sinTensor(shapes.x, 0.4) as tf.Tensor4D;
    const filter = sinTensor(shapes.filter, 0.9, 0.31) as tf.Tensor4D;
    const actual = gradients(x, filter);
    expect(relativeError(await actual.data(), expected)).toBeLessThan(1e-5);
    tf.dispose([x, filter, actual]);
  });

  it('refuses a second initialisation', async () => {
    await expect(initWasmThreaded({ threads: 2 })).rejects.toThrow(/already initialised/);
  });
});
