import { initBackend, registerWasmTrainingKernels } from '@diffusion-ts/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { SMALL_UNET_2D } from './testing/index.js';
import { UNet2DModel } from './unet-2d.js';

/** Gradients of an MSE-to-zero loss for every variable, on the current backend. */
function gradients(model: UNet2DModel): Float32Array[] {
  return tf.tidy(() => {
    const sample = tf.reshape(tf.sin(tf.range(0, 8 * 8 * 3)), [1, 8, 8, 3]) as tf.Tensor4D;
    const timesteps = tf.tensor1d([700], 'int32');
    const { value, grads } = tf.variableGrads(
      () => tf.mean(tf.square(model.predict(sample, timesteps))) as tf.Scalar,
      model.trainableVariables(),
    );
    value.dispose();
    return model.trainableVariables().map((variable) => grads[variable.name].dataSync() as Float32Array);
  });
}

describe('UNet2DModel gradients on wasm (core training kernels)', () => {
  it('match the cpu gradients for every variable', async () => {
    await initBackend('cpu');
    const cpuModel = UNet2DModel.fromConfig(SMALL_UNET_2D, { seed: 4 });
    const expected = gradients(cpuModel);
    cpuModel.dispose();
    await initBackend('wasm');
    expect(registerWasmTrainingKernels()).toBe(true);
    const wasmModel = UNet2DModel.fromConfig(SMALL_UNET_2D, { seed: 4 });
    const before = tf.memory().numTensors;
    const actual = gradients(wasmModel);
    expect(tf.memory().numTensors).toBe(before);
    const names = wasmModel.parameterNames();
    const bad: string[] = [];
    actual.forEach((values, i) => {
      const scale = Math.max(...Array.from(expected[i]).map(Math.abs), 1e-12);
      const error = Math.max(...Array.from(values).map((value, j) => Math.abs(value - expected[i][j])));
      if (!(error <= 1e-3 * scale + 1e-7)) bad.push(`${names[i]} (${error.toExponential(2)} vs scale ${scale.toExponential(2)})`);
    });
    expect(bad).toEqual([]);
    wasmModel.dispose();
  });
});
