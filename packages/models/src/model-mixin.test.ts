import { ConfigError, initBackend, readSafetensors, type ConfigJson, type PretrainedSource } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Linear } from './layers/linear.js';
import type { FromConfigOptions, ModelFamily } from './model-config.js';
import { ModelMixin } from './model-mixin.js';
import type { FromPretrainedOptions } from './pretrained-io.js';
import { TINY_UNET } from './testing/index.js';
import { UNet2DModel } from './unet-2d.js';

/** A model class outside the UNet family, written the way new model classes use the base. */
interface ProjectionOptions {
  inFeatures: number;
  outFeatures: number;
}

const FAMILY: ModelFamily<ProjectionOptions> = {
  className: 'TestProjection',
  schema: { inFeatures: { kind: 'integer' }, outFeatures: { kind: 'integer' } },
  defaults: { inFeatures: 4, outFeatures: 2 },
  validate: (options) => {
    if (options.outFeatures < 1) throw new ConfigError('TestProjection: out_features must be positive', 'out_features');
    return options;
  },
  weightsName: 'model.safetensors',
  // The family's size hook: the projection's weights and bias, one row of activations.
  estimateSize: ({ inFeatures, outFeatures }) => {
    const parameters = inFeatures * outFeatures + outFeatures;
    return {
      estimate: { parameters, parameterBytes: 4 * parameters, activationBytes: 4 * outFeatures, largestTensorBytes: 4 * outFeatures },
    };
  },
};

class TestProjection extends ModelMixin<ProjectionOptions> {
  private readonly projection: Linear;

  private constructor(options: ProjectionOptions, seed: number | null, unknownConfig: ConfigJson, failAfterBuilding = false) {
    super(FAMILY, options, seed, unknownConfig);
    this.projection = this.buildModules((scope) => {
      const layer = new Linear(scope.child('proj'), options.inFeatures, options.outFeatures);
      if (failAfterBuilding) throw new Error('TestProjection: build failed');
      return layer;
    });
  }

  static fromConfig(config: ConfigJson | Partial<ProjectionOptions>, options: FromConfigOptions = {}): TestProjection {
    return ModelMixin.buildFromConfig(FAMILY, config, options, (...args) => new TestProjection(...args));
  }

  static fromPretrained(source: string | PretrainedSource, options: FromPretrainedOptions = {}): Promise<TestProjection> {
    return ModelMixin.loadPretrained(FAMILY, source, options, (...args) => new TestProjection(...args));
  }

  static failing(): TestProjection {
    return ModelMixin.buildFromConfig(FAMILY, {}, {}, (options, seed, unknown) => new TestProjection(options, seed, unknown, true));
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return this.projection.apply(x);
  }
}

describe.each(testBackendNames())('ModelMixin on %s', (backend) => {
  let folder: string;
  beforeAll(async () => {
    await initBackend(backend);
    folder = await mkdtemp(join(tmpdir(), 'model-mixin-'));
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('builds from a config, names its class and saves a folder that loads back to the same outputs', async () => {
    const warnings: string[] = [];
    const model = TestProjection.fromConfig(
      { in_features: 3, out_features: 5, extra_key: 1 },
      { seed: 2, onWarning: (message) => warnings.push(message) },
    );
    expect(model.className).toBe('TestProjection');
    expect(model.config).toEqual({ inFeatures: 3, outFeatures: 5 });
    expect(model.parameterNames()).toEqual(['proj.weight', 'proj.bias']);
    expect(model.parameterCount).toBe(20);
    expect(warnings).toEqual(["TestProjection: unknown config key 'extra_key' was not used"]);
    expect(model.toConfig()).toMatchObject({ _class_name: 'TestProjection', in_features: 3, out_features: 5, extra_key: 1 });

    const target = join(folder, `saved-${backend}`);
    await model.save(target);
    expect((await readdir(target)).sort()).toEqual(['config.json', 'model.safetensors']);
    const loaded = await TestProjection.fromPretrained(target, { onWarning: () => {} });
    const x = tf.tensor2d([[1, 2, 3]]);
    const [a, b] = [model.apply(x), loaded.apply(x)];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('saves float16 and bfloat16 weights at half the size, loaded back widened and rounded', async () => {
    const model = TestProjection.fromConfig({ in_features: 64, out_features: 32 }, { seed: 3 });
    const exported = await model.exportWeights();
    const sizes: Record<string, number> = {};
    for (const [dtype, stored, tolerance] of [
      ['float32', 'F32', 0],
      ['float16', 'F16', 2 ** -11],
      ['bfloat16', 'BF16', 2 ** -8],
    ] as const) {
      const target = join(folder, `${dtype}-${backend}`);
      await model.save(target, { dtype });
      const file = await readFile(join(target, 'model.safetensors'));
      sizes[dtype] = file.length;
      expect(Object.values(readSafetensors(file).tensors).map((tensor) => tensor.dtype)).toEqual([stored, stored]);
      const loaded = await TestProjection.fromPretrained(target);
      const reloaded = await loaded.exportWeights();
      for (const [name, weight] of Object.entries(exported)) {
        const back = reloaded[name].data;
        for (let i = 0; i < weight.data.length; i++) {
          expect(Math.abs(back[i] - weight.data[i])).toBeLessThanOrEqual(tolerance * Math.abs(weight.data[i]) + 1e-7);
        }
      }
      loaded.dispose();
    }
    expect(sizes.float16).toBeLessThan(0.6 * sizes.float32);
    expect(sizes.bfloat16).toBe(sizes.float16);
    await expect(model.save(join(folder, 'bad'), { dtype: 'int8' as 'float16' })).rejects.toThrow(
      /dtype must be float32, float16 or bfloat16, got int8/,
    );
    model.dispose();
  });

  it('skips the random initialisation with seed null: every parameter starts at zero', () => {
    const model = UNet2DModel.fromConfig(TINY_UNET, { seed: null });
    const variables = model.trainableVariables();
    expect(variables.length).toBeGreaterThan(0);
    for (const variable of variables) expect(tf.tidy(() => tf.max(tf.abs(variable)).dataSync()[0])).toBe(0);
    model.dispose();
  });

  it('refuses a config of another class and runs the family checks', () => {
    expect(() => TestProjection.fromConfig({ _class_name: 'UNet2DModel' })).toThrow(/TestProjection: the config is for 'UNet2DModel'/);
    expect(() => TestProjection.fromConfig({ out_features: 0 })).toThrow(/out_features must be positive/);
  });

  it('refuses a config beyond the budget from the family estimate, before building, and from a folder before reading the weights', async () => {
    const before = tf.memory().numTensors;
    expect(() => TestProjection.fromConfig({ in_features: 1000, out_features: 1000 }, { budget: { maxParameters: 1e5 } })).toThrow(
      /TestProjection: the config describes 1,001,000 parameters .* more than the budget of 100,000 \(budget\.maxParameters/,
    );
    expect(() => TestProjection.fromConfig({ out_features: 100 }, { budget: { maxActivationBytes: 100 } })).toThrow(
      /budget\.maxActivationBytes/,
    );
    expect(tf.memory().numTensors).toBe(before);
    const model = TestProjection.fromConfig({ in_features: 3, out_features: 5 }, { budget: { maxParameters: 20 } });
    const target = join(folder, `budget-${backend}`);
    await model.save(target);
    model.dispose();
    await rm(join(target, 'model.safetensors'));
    // The weights file is gone: the budget refusal comes from the config alone.
    await expect(TestProjection.fromPretrained(target, { budget: { maxParameters: 19 } })).rejects.toThrow(/budget of 19 /);
    await expect(TestProjection.fromPretrained(target)).rejects.toThrow(/model\.safetensors/);
  });

  it('frees the parameters already made when building the modules throws', () => {
    const before = tf.memory().numTensors;
    expect(() => TestProjection.failing()).toThrow(/build failed/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
