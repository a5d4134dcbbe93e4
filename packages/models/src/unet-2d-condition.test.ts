import { ConfigError, initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDifference } from './testing/fixtures.js';
import { SMALL_UNET_2D_CONDITION } from './testing/index.js';
import { UNet2DConditionModel } from './unet-2d-condition.js';

describe.each(testBackendNames())('UNet2DConditionModel on %s', (backend) => {
  let model: UNet2DConditionModel;
  let sample: tf.Tensor4D;
  let context: tf.Tensor3D;

  beforeAll(async () => {
    await initBackend(backend);
    model = UNet2DConditionModel.fromConfig(SMALL_UNET_2D_CONDITION, { seed: 3 });
    sample = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 1);
    context = tf.randomNormal([2, 5, 12], 0, 1, 'float32', 2);
  });

  afterAll(() => {
    model.dispose();
    tf.dispose([sample, context]);
  });

  it('predicts NHWC output of the sample shape without leaking tensors', () => {
    const before = tf.memory().numTensors;
    const output = model.predict(sample, 10, { encoderHiddenStates: context });
    expect(output.shape).toEqual([2, 8, 8, 4]);
    expect(tf.memory().numTensors).toBe(before + 1);
    output.dispose();
  });

  it('uses the cross-attention context', () => {
    const output = model.predict(sample, 10, { encoderHiddenStates: context });
    const other = tf.mul(context, -1) as tf.Tensor3D;
    const changed = model.predict(sample, 10, { encoderHiddenStates: other });
    expect(maxAbsDifference(output, changed)).toBeGreaterThan(1e-4);
    tf.dispose([output, other, changed]);
  });

  it('broadcasts a plain timestep like a [B] tensor', () => {
    const timesteps = tf.tensor1d([7, 7], 'int32');
    const a = model.predict(sample, 7, { encoderHiddenStates: context });
    const b = model.predict(sample, timesteps, { encoderHiddenStates: context });
    expect(maxAbsDifference(a, b)).toBe(0);
    tf.dispose([timesteps, a, b]);
  });

  it('round-trips config and weights', async () => {
    const config = model.toConfig();
    expect(config._class_name).toBe('UNet2DConditionModel');
    expect(config.attention_head_dim).toBe(2);
    const copy = UNet2DConditionModel.fromConfig(config, { seed: 99 });
    copy.loadWeights(await model.exportWeights());
    const a = model.predict(sample, 3, { encoderHiddenStates: context });
    const b = copy.predict(sample, 3, { encoderHiddenStates: context });
    expect(maxAbsDifference(a, b)).toBe(0);
    tf.dispose([a, b]);
    copy.dispose();
  });

  it('saves and loads from a pipeline-style subfolder', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const nodePath = await import('node:path');
    const folder = await mkdtemp(nodePath.join(tmpdir(), 'models-condition-'));
    await model.save(nodePath.join(folder, 'unet'));
    const loaded = await UNet2DConditionModel.fromPretrained(folder, { subfolder: 'unet' });
    const a = model.predict(sample, 3, { encoderHiddenStates: context });
    const b = loaded.predict(sample, 3, { encoderHiddenStates: context });
    expect(maxAbsDifference(a, b)).toBe(0);
    expect(Object.keys(loaded.toConfig())).toEqual(Object.keys(model.toConfig()));
    tf.dispose([a, b]);
    loaded.dispose();
    await rm(folder, { recursive: true, force: true });
  });

  it('rejects missing or mis-sized encoderHiddenStates', () => {
    expect(() => model.predict(sample, 1)).toThrow(/encoderHiddenStates .*required/);
    const wrong = tf.zeros([2, 5, 7]) as tf.Tensor3D;
    expect(() => model.predict(sample, 1, { encoderHiddenStates: wrong })).toThrow(/last dimension 7 but cross_attention_dim is 12/);
    const wrongBatch = tf.zeros([3, 5, 12]) as tf.Tensor3D;
    expect(() => model.predict(sample, 1, { encoderHiddenStates: wrongBatch })).toThrow(/shape \[2, S, D\]/);
    tf.dispose([wrong, wrongBatch]);
  });

  it('rejects a wrong channel count and an indivisible size', () => {
    const three = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    expect(() => model.predict(three, 1, { encoderHiddenStates: context })).toThrow(/3 channels .* in_channels = 4/);
    const odd = tf.zeros([1, 6, 7, 4]) as tf.Tensor4D;
    expect(() => model.predict(odd, 1, { encoderHiddenStates: context })).toThrow(/multiples of 2/);
    tf.dispose([three, odd]);
  });
});

describe('UNet2DConditionModel options', () => {
  beforeAll(() => initBackend('cpu'));

  it('supports class labels, linear projections and per-block head counts', () => {
    const model = UNet2DConditionModel.fromConfig({
      ...SMALL_UNET_2D_CONDITION,
      numClassEmbeds: 3,
      useLinearProjection: true,
      attentionHeadDim: [2, 4],
      transformerLayersPerBlock: 2,
    });
    expect(model.parameterNames()).toContain('class_embedding.weight');
    expect(model.parameterNames()).toContain('down_blocks.0.attentions.0.transformer_blocks.1.attn2.to_k.weight');
    const linear = model.parameterNames().indexOf('down_blocks.0.attentions.0.proj_in.weight');
    expect(model.trainableVariables()[linear].shape).toEqual([8, 8]);
    const sample = tf.ones([2, 8, 8, 4]) as tf.Tensor4D;
    const context = tf.ones([2, 3, 12]) as tf.Tensor3D;
    const labels = tf.tensor1d([0, 2], 'int32');
    const other = tf.tensor1d([1, 1], 'int32');
    const a = model.predict(sample, 5, { encoderHiddenStates: context, classLabels: labels });
    const b = model.predict(sample, 5, { encoderHiddenStates: context, classLabels: other });
    expect(a.shape).toEqual([2, 8, 8, 4]);
    expect(maxAbsDifference(a, b)).toBeGreaterThan(1e-5);
    expect(() => model.predict(sample, 5, { encoderHiddenStates: context })).toThrow(/classLabels are required/);
    tf.dispose([sample, context, labels, other, a, b]);
    model.dispose();
  });

  it('gives the same output on cpu and wasm', async () => {
    const outputs: Float32Array[] = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      await initBackend(backend);
      const model = UNet2DConditionModel.fromConfig({ ...SMALL_UNET_2D_CONDITION, transformerLayersPerBlock: 2 }, { seed: 8 });
      const output = tf.tidy(() => {
        const sample = tf.reshape(tf.sin(tf.range(0, 2 * 8 * 8 * 4)), [2, 8, 8, 4]) as tf.Tensor4D;
        const context = tf.reshape(tf.cos(tf.range(0, 2 * 5 * 12)), [2, 5, 12]) as tf.Tensor3D;
        return model.predict(sample, tf.tensor1d([1, 900]), { encoderHiddenStates: context });
      });
      outputs.push(output.dataSync() as Float32Array);
      output.dispose();
      model.dispose();
    }
    const error = Math.max(...Array.from(outputs[0]).map((value, i) => Math.abs(value - outputs[1][i])));
    expect(error).toBeLessThan(1e-4);
    await initBackend('cpu');
  });

  it('rejects unsupported features and malformed per-block values by key', () => {
    expect(() => UNet2DConditionModel.fromConfig({ ...SMALL_UNET_2D_CONDITION, addition_embed_type: 'text' })).toThrow(ConfigError);
    expect(() => UNet2DConditionModel.fromConfig({ ...SMALL_UNET_2D_CONDITION, attentionHeadDim: [2, 2, 2] })).toThrow(
      /attention_head_dim/,
    );
    expect(() => UNet2DConditionModel.fromConfig({ ...SMALL_UNET_2D_CONDITION, downBlockTypes: ['Nope2D'] })).toThrow(/Nope2D/);
  });
});
