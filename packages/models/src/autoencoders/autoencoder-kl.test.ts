import { Generator, initBackend, randn } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTOENCODER_KL_SMALL_FOLDER,
  maxScaledError,
  readAutoencoderFixture,
  type AutoencoderKLIo,
  type AutoencoderKLTiled,
} from '../testing/autoencoder-fixtures.js';
import { nchwToNhwc } from '../testing/fixtures.js';
import { AutoencoderKL } from './autoencoder-kl.js';

/** Parity errors per backend and field, printed once at the end (for the closing note). */
const report: string[] = [];

describe.each(testBackendNames())('AutoencoderKL against Diffusers on %s', (backend) => {
  let model: AutoencoderKL;
  let io: AutoencoderKLIo;
  let tiled: AutoencoderKLTiled;
  let image: tf.Tensor4D;
  let latent: tf.Tensor4D;

  const check = (field: string, actual: tf.Tensor, expected: tf.Tensor, tolerance = 1e-4): void => {
    const error = maxScaledError(actual, expected);
    report.push(`${backend} ${field}: ${error.toExponential(2)}`);
    expect(error).toBeLessThan(tolerance);
  };

  beforeAll(async () => {
    await initBackend(backend);
    model = await AutoencoderKL.fromPretrained(AUTOENCODER_KL_SMALL_FOLDER);
    io = readAutoencoderFixture<AutoencoderKLIo>('io.json');
    tiled = readAutoencoderFixture<AutoencoderKLTiled>('tiled.json');
    image = nchwToNhwc(io.inputs.image);
    latent = nchwToNhwc(io.inputs.latent);
  });

  afterAll(() => {
    model.dispose();
    tf.dispose([image, latent]);
    if (backend === testBackendNames().at(-1)) console.log(`AutoencoderKL parity (max |a - b| / max(1, |b|)):\n  ${report.join('\n  ')}`);
  });

  it('loads the fixture without warnings and reads the config', () => {
    expect(model.loadWarnings).toEqual([]);
    expect(model.parameterCount).toBe(658_375);
    expect(model.scalingFactor).toBe(0.18215);
    expect(model.shiftFactor).toBe(0);
    expect(model.downsampleFactor).toBe(2);
    expect([model.tileSampleMinSize, model.tileLatentMinSize, model.tileOverlapFactor]).toEqual([
      tiled.tiling.tile_sample_min_size,
      tiled.tiling.tile_latent_min_size,
      tiled.tiling.tile_overlap_factor,
    ]);
  });

  it('encodes to the posterior mean and log-variance, and its KL', () => {
    const before = tf.memory().numTensors;
    const posterior = model.encode(image);
    const expected = [io.outputs.latent_dist_mean, io.outputs.latent_dist_logvar].map(nchwToNhwc);
    check('latent_dist_mean', posterior.mean, expected[0]);
    check('latent_dist_logvar', posterior.logvar, expected[1]);
    const kl = posterior.kl();
    const expectedKl = tf.tensor1d(tiled.outputs.kl_of_io_image.data);
    check('kl', kl, expectedKl);
    tf.dispose([...expected, kl, expectedKl]);
    posterior.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('decodes a latent', () => {
    const before = tf.memory().numTensors;
    const decoded = model.decode(latent);
    expect(tf.memory().numTensors).toBe(before + 1);
    const expected = nchwToNhwc(io.outputs.decode_of_latent);
    check('decode_of_latent', decoded, expected);
    tf.dispose([decoded, expected]);
  });

  it('reconstructs through the posterior mode (forward)', () => {
    const before = tf.memory().numTensors;
    const output = model.forward(image);
    expect(tf.memory().numTensors).toBe(before + 1);
    const expected = nchwToNhwc(io.outputs.forward_posterior_mode);
    check('forward_posterior_mode', output, expected);
    tf.dispose([output, expected]);
  });

  it('tiled decode matches Diffusers enable_tiling()', () => {
    const input = nchwToNhwc(tiled.inputs.latent);
    const before = tf.memory().numTensors;
    const decoded = model.decode(input, { tiling: true });
    expect(tf.memory().numTensors).toBe(before + 1);
    const expected = nchwToNhwc(tiled.outputs.tiled_decode);
    check('tiled_decode', decoded, expected);
    const sliced = model.decode(input, { tiling: true, slicing: true });
    check('tiled_decode (sliced)', sliced, expected);
    // Tiling changes the numbers (each tile normalises and attends on its own), as in Diffusers.
    const untiled = model.decode(input);
    report.push(
      `${backend} tiled vs untiled decode, max |diff|: ${tf.tidy(() => tf.max(tf.abs(tf.sub(untiled, decoded))).dataSync()[0]).toFixed(4)}`,
    );
    tf.dispose([input, decoded, sliced, expected, untiled]);
  });

  it('tiled encode matches Diffusers enable_tiling()', () => {
    const input = nchwToNhwc(tiled.inputs.image);
    const before = tf.memory().numTensors;
    model.enableTiling();
    const posterior = model.encode(input);
    model.disableTiling();
    const expected = [tiled.outputs.tiled_latent_dist_mean, tiled.outputs.tiled_latent_dist_logvar].map(nchwToNhwc);
    check('tiled_latent_dist_mean', posterior.mean, expected[0]);
    check('tiled_latent_dist_logvar', posterior.logvar, expected[1]);
    tf.dispose(expected);
    posterior.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('tiling leaves inputs of one tile untouched, and slicing changes nothing', () => {
    const before = tf.memory().numTensors;
    const plain = model.decode(latent);
    const oneTile = model.decode(latent, { tiling: true });
    expect(maxScaledError(oneTile, plain)).toBe(0);
    const sliced = model.decode(latent, { slicing: true });
    expect(maxScaledError(sliced, plain)).toBeLessThan(1e-5);
    const posterior = model.encode(image, { slicing: true });
    const whole = model.encode(image);
    expect(maxScaledError(posterior.mean, whole.mean)).toBeLessThan(1e-5);
    tf.dispose([plain, oneTile, sliced]);
    posterior.dispose();
    whole.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('samples the posterior as mean + std * noise from the generator', () => {
    const before = tf.memory().numTensors;
    const posterior = model.encode(image);
    const a = posterior.sample(new Generator(7));
    const b = posterior.sample(new Generator(7));
    expect(maxScaledError(a, b)).toBe(0);
    const expected = tf.tidy(() => tf.add(posterior.mean, tf.mul(posterior.std, randn([...posterior.mean.shape], new Generator(7)))));
    expect(maxScaledError(a, expected)).toBe(0);
    const mode = posterior.mode();
    expect(maxScaledError(mode, posterior.mean)).toBe(0);
    const sampled = model.forward(image, { samplePosterior: true, generator: new Generator(7) });
    const fromSample = model.decode(a);
    expect(maxScaledError(sampled, fromSample)).toBeLessThan(1e-6);
    tf.dispose([a, b, expected, mode, sampled, fromSample]);
    posterior.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
