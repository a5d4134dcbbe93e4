import { ConfigError, initBackend, loadSafetensors, saveSafetensors, writeConfigFile, type ConfigJson } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTOENCODER_KL_SMALL_FOLDER,
  AUTOENCODER_KL_VARIANT_FOLDER,
  maxScaledError,
  readAutoencoderFixture,
  type AutoencoderKLIo,
  type AutoencoderKLVariantIo,
} from '../testing/autoencoder-fixtures.js';
import { nchwToNhwc } from '../testing/fixtures.js';
import { WeightsError, type WeightTensor } from '../weights.js';
import { AutoencoderKL } from './autoencoder-kl.js';

const WEIGHTS = 'diffusion_pytorch_model.safetensors';

/** Writes `config` and `tensors` as a model folder under `root`. */
async function writeFolder(root: string, name: string, config: ConfigJson, tensors: Record<string, WeightTensor>): Promise<string> {
  const folder = join(root, name);
  await saveSafetensors(join(folder, WEIGHTS), tensors as Parameters<typeof saveSafetensors>[1]);
  await writeConfigFile(join(folder, 'config.json'), config);
  return folder;
}

describe.each(testBackendNames())('AutoencoderKL loading, saving and bad input on %s', (backend) => {
  let root: string;
  let model: AutoencoderKL;
  let io: AutoencoderKLIo;
  let config: ConfigJson;
  let tensors: Record<string, WeightTensor>;
  let latent: tf.Tensor4D;
  let expectedDecode: tf.Tensor4D;

  beforeAll(async () => {
    await initBackend(backend);
    root = await mkdtemp(join(tmpdir(), 'autoencoder-kl-'));
    model = await AutoencoderKL.fromPretrained(AUTOENCODER_KL_SMALL_FOLDER);
    io = readAutoencoderFixture<AutoencoderKLIo>('io.json');
    config = readAutoencoderFixture<ConfigJson>('config.json');
    tensors = (await loadSafetensors(join(AUTOENCODER_KL_SMALL_FOLDER, WEIGHTS))).tensors;
    latent = nchwToNhwc(io.inputs.latent);
    expectedDecode = nchwToNhwc(io.outputs.decode_of_latent);
  });

  afterAll(async () => {
    model.dispose();
    tf.dispose([latent, expectedDecode]);
    await rm(root, { recursive: true, force: true });
  });

  it('matches a second Diffusers VAE: 3 levels, Attn encoder/decoder blocks, no quant convs, no mid attention, gelu', async () => {
    const variantIo = readAutoencoderFixture<AutoencoderKLVariantIo>('io.json', AUTOENCODER_KL_VARIANT_FOLDER);
    const variant = await AutoencoderKL.fromPretrained(AUTOENCODER_KL_VARIANT_FOLDER);
    expect(variant.loadWarnings).toEqual([]);
    expect(variant.parameterCount).toBe(variantIo.num_parameters);
    // The same names; the order differs only inside Attn blocks (Diffusers registers all attentions before all resnets).
    expect([...variant.parameterNames()].sort()).toEqual([...variantIo.parameter_names].sort());
    expect([variant.scalingFactor, variant.shiftFactor, variant.downsampleFactor]).toEqual([0.5, 0.125, 4]);
    const before = tf.memory().numTensors;
    const image = nchwToNhwc(variantIo.inputs.image);
    const posterior = variant.encode(image);
    const decoded = variant.decode(posterior.mean);
    const kl = posterior.kl();
    const expected = [variantIo.outputs.latent_dist_mean, variantIo.outputs.latent_dist_logvar, variantIo.outputs.decode_of_mean].map(
      nchwToNhwc,
    );
    const expectedKl = tf.tensor1d(variantIo.outputs.kl.data);
    const errors = [
      maxScaledError(posterior.mean, expected[0]),
      maxScaledError(posterior.logvar, expected[1]),
      maxScaledError(decoded, expected[2]),
      maxScaledError(kl, expectedKl),
    ];
    console.log(
      `${backend} autoencoder_kl_variant mean / logvar / decode_of_mean / kl: ${errors.map((error) => error.toExponential(2)).join(' / ')}`,
    );
    for (const error of errors) expect(error).toBeLessThan(1e-4);
    tf.dispose([image, decoded, kl, expectedKl, ...expected]);
    posterior.dispose();
    expect(tf.memory().numTensors).toBe(before);
    variant.dispose();
  });

  it('saves a Diffusers folder: the same config keys, bit-identical weights, the same outputs', async () => {
    const folder = join(root, 'saved');
    await model.save(folder);
    const saved = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as ConfigJson;
    expect(Object.keys(saved).sort()).toEqual(Object.keys(config).sort());
    expect(Object.keys(saved).slice(0, 2)).toEqual(['_class_name', '_diffusers_version']);
    for (const key of Object.keys(config).filter((name) => !name.startsWith('_'))) expect(saved[key]).toEqual(config[key]);
    const written = (await loadSafetensors(join(folder, WEIGHTS))).tensors;
    expect(Object.keys(written).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, tensor] of Object.entries(tensors)) {
      expect(written[name].shape).toEqual(tensor.shape);
      expect(Buffer.from((written[name].data as Float32Array).buffer).equals(Buffer.from((tensor.data as Float32Array).buffer))).toBe(true);
    }
    const reloaded = await AutoencoderKL.fromPretrained(folder);
    const a = model.decode(latent);
    const b = reloaded.decode(latent);
    expect(maxScaledError(a, b)).toBe(0);
    tf.dispose([a, b]);
    reloaded.dispose();
  });

  it('widens F16 and BF16 weights', async () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const narrow = Object.fromEntries(Object.entries(tensors).map(([name, tensor]) => [name, { ...tensor, dtype }]));
      const half = await AutoencoderKL.fromPretrained(await writeFolder(root, dtype, config, narrow));
      const decoded = half.decode(latent);
      const error = maxScaledError(decoded, expectedDecode);
      expect(error).toBeGreaterThan(0);
      expect(error).toBeLessThan(dtype === 'F16' ? 1e-2 : 1e-1);
      decoded.dispose();
      half.dispose();
    }
  });

  it("accepts the old attention names (query, key, value, proj_attn) as Diffusers' loader does", async () => {
    const legacy = Object.fromEntries(
      Object.entries(tensors).map(([name, tensor]) => [
        name.replace('.to_q.', '.query.').replace('.to_k.', '.key.').replace('.to_v.', '.value.').replace('.to_out.0.', '.proj_attn.'),
        tensor,
      ]),
    );
    expect(Object.keys(legacy)).toContain('encoder.mid_block.attentions.0.proj_attn.weight');
    const loaded = await AutoencoderKL.fromPretrained(await writeFolder(root, 'legacy', config, legacy));
    expect(loaded.loadWarnings).toEqual([]);
    const decoded = loaded.decode(latent);
    expect(maxScaledError(decoded, expectedDecode)).toBeLessThan(1e-4);
    decoded.dispose();
    loaded.dispose();
  });

  it('loads from an http base URL and a subfolder (a local server)', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((request, response) => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
      const match = /^\/vae\/(config\.json|diffusion_pytorch_model\.safetensors)$/.exec(path);
      if (!match) {
        response.writeHead(404).end();
        return;
      }
      readFile(join(AUTOENCODER_KL_SMALL_FOLDER, match[1])).then(
        (bytes) => response.writeHead(200).end(bytes),
        () => response.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const remote = await AutoencoderKL.fromPretrained(`http://127.0.0.1:${port}`, { subfolder: 'vae' });
      const decoded = remote.decode(latent);
      expect(maxScaledError(decoded, expectedDecode)).toBeLessThan(1e-4);
      decoded.dispose();
      remote.dispose();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses weights that do not fit the config: missing names, wrong shapes, and (strict) unused names', async () => {
    const before = tf.memory().numTensors;
    const missing = { ...tensors };
    delete missing['decoder.up_blocks.0.upsamplers.0.conv.weight'];
    const missingFolder = await writeFolder(root, 'missing', config, missing);
    const missingError = await AutoencoderKL.fromPretrained(missingFolder).catch((error: unknown) => error);
    expect(missingError).toBeInstanceOf(WeightsError);
    expect((missingError as WeightsError).missing).toEqual(['decoder.up_blocks.0.upsamplers.0.conv.weight']);

    // The same weights under a config with 8 latent channels: every latent-sized tensor mismatches.
    const wide = await AutoencoderKL.fromPretrained(await writeFolder(root, 'wide', { ...config, latent_channels: 8 }, tensors)).catch(
      (error: unknown) => error,
    );
    expect(wide).toBeInstanceOf(WeightsError);
    expect((wide as WeightsError).mismatched).toContain('quant_conv.weight: expected [16, 16, 1, 1], got [8, 8, 1, 1]');
    expect((wide as WeightsError).message).toMatch(/encoder\.conv_out\.weight: expected \[16, 64, 3, 3\], got \[8, 64, 3, 3\]/);

    const extra = { ...tensors, 'encoder.leftover.weight': { dtype: 'F32', shape: [2], data: new Float32Array(2) } };
    const extraFolder = await writeFolder(root, 'extra', config, extra);
    const warnings: string[] = [];
    const loaded = await AutoencoderKL.fromPretrained(extraFolder, { onWarning: (message) => warnings.push(message) });
    expect(warnings).toEqual([expect.stringMatching(/'encoder\.leftover\.weight' is not used by AutoencoderKL/)]);
    loaded.dispose();
    const strict = await AutoencoderKL.fromPretrained(extraFolder, { strict: true }).catch((error: unknown) => error);
    expect(strict).toBeInstanceOf(WeightsError);
    expect((strict as WeightsError).unexpected).toEqual(['encoder.leftover.weight']);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads configs as Diffusers does and names the key of a bad one', () => {
    const warnings: string[] = [];
    const tiny = { ...config, block_out_channels: [8, 16], norm_num_groups: 4, sample_size: [16, 24], some_future_key: 3 };
    const built = AutoencoderKL.fromConfig(tiny, { onWarning: (message) => warnings.push(message) });
    expect(warnings).toEqual([expect.stringMatching(/some_future_key/)]);
    expect(built.toConfig()).toMatchObject({
      _class_name: 'AutoencoderKL',
      some_future_key: 3,
      sample_size: [16, 24],
      block_out_channels: [8, 16],
    });
    expect(built.tileSampleMinSize).toBe(16);
    built.dispose();
    const defaults = AutoencoderKL.fromConfig({});
    expect(defaults.toConfig()).toMatchObject({
      block_out_channels: [64],
      down_block_types: ['DownEncoderBlock2D'],
      latent_channels: 4,
      sample_size: 32,
      scaling_factor: 0.18215,
    });
    defaults.dispose();

    const before = tf.memory().numTensors;
    const cases: [ConfigJson, string][] = [
      [{ ...config, down_block_types: ['DownBlock2D', 'DownEncoderBlock2D'] }, 'down_block_types'],
      [{ ...config, up_block_types: ['UpDecoderBlock2D'] }, 'up_block_types'],
      [{ ...config, norm_num_groups: 24 }, 'norm_num_groups'],
      [{ ...config, block_out_channels: [] }, 'block_out_channels'],
      [{ ...config, latent_channels: 0 }, 'latent_channels'],
      [{ ...config, in_channels: 2.5 }, 'in_channels'],
      [{ ...config, scaling_factor: 0 }, 'scaling_factor'],
      [{ ...config, latents_mean: [0, 0, 0] }, 'latents_mean'],
      [{ ...config, act_fn: 'tanh' }, 'act_fn'],
      [{ ...config, sample_size: null }, 'sample_size'],
      [{ ...config, _class_name: 'UNet2DModel' }, '_class_name'],
    ];
    for (const [bad, key] of cases) {
      let caught: unknown;
      try {
        AutoencoderKL.fromConfig(bad, { onWarning: () => undefined }).dispose();
      } catch (error) {
        caught = error;
      }
      expect(caught, key).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).key, key).toBe(key);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses bad images and latents with typed errors, leaving no tensors behind', () => {
    const before = tf.memory().numTensors;
    const bad = tf.tidy(() => ({
      odd: tf.zeros([1, 15, 16, 3]) as tf.Tensor4D,
      nchw: tf.zeros([1, 3, 16, 16]) as tf.Tensor4D,
      nan: tf.fill([1, 16, 16, 3], Number.NaN) as tf.Tensor4D,
      infinite: tf.fill([1, 2, 2, 4], Number.POSITIVE_INFINITY) as tf.Tensor4D,
      rank3: tf.zeros<tf.Rank>([16, 16, 3]) as tf.Tensor4D,
      integer: tf.zeros([1, 16, 16, 3], 'int32') as tf.Tensor4D,
      latentChannels: tf.zeros([1, 8, 8, 3]) as tf.Tensor4D,
      empty: tf.zeros([0, 16, 16, 3]) as tf.Tensor4D,
    }));
    const during = tf.memory().numTensors;
    expect(() => model.encode(bad.odd)).toThrow(RangeError);
    expect(() => model.encode(bad.odd)).toThrow(/height and width \(15x16\) must be multiples of 2/);
    expect(() => model.encode(bad.nchw)).toThrow(/images has 16 channels but the model expects in_channels = 3 .*NHWC/);
    expect(() => model.encode(bad.nan)).toThrow(RangeError);
    expect(() => model.encode(bad.nan)).toThrow(/images contains NaN/);
    expect(() => model.decode(bad.infinite)).toThrow(/latents contains NaN or Infinity/);
    expect(() => model.encode(bad.rank3)).toThrow(/must be NHWC/);
    expect(() => model.encode(bad.integer)).toThrow(TypeError);
    expect(() => model.decode(bad.latentChannels)).toThrow(/latents has 3 channels but the model expects latent_channels = 4/);
    expect(() => model.encode(bad.empty)).toThrow(/empty/);
    expect(() => model.enableTiling({ tileSampleMinSize: 15 })).toThrow(RangeError);
    expect(() => model.enableTiling({ tileOverlapFactor: 1 })).toThrow(RangeError);
    expect(model.useTiling).toBe(false);
    expect(tf.memory().numTensors).toBe(during);
    tf.dispose(Object.values(bad));
    expect(tf.memory().numTensors).toBe(before);
  });
});
