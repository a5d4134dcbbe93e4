/**
 * Part 4, speed: UNet2DModel in the DDPM CIFAR-10 layout (google/ddpm-cifar10-32, random weights)
 * forward at batch 1 and 8 and a training step (forward + backward + AdamW) at batch 8, and the
 * slowest kernels (conv2d, matMul, GroupNorm, softmax), and one denoising step of Stable Diffusion
 * 1.5's UNet at 512x512 (batch 2, as classifier-free guidance runs it; weights left at zero, which
 * costs the same as real ones), on every GPU backend here and on wasm + native, side by side in
 * one run. `--quick` (CI on SwiftShader) times the tiny fixture model at batch 1 and small kernels
 * instead.
 */
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { AdamW, groupNormalize, listBackends } from '@diffusion-ts/core';
import { countFlops, UNet2DConditionModel, UNet2DModel } from '@diffusion-ts/models';
import { DDPM_CIFAR10_CONFIG, SD15_UNET_CONFIG } from '@diffusion-ts/models/testing';
import { APP_ROOT, bestTime, messageOf, partArguments, useBackend, writePartJson } from '../common.mjs';

const { out, quick } = partArguments();

const models = quick
  ? [
      {
        name: 'tiny fixture (702k)',
        load: () => UNet2DModel.fromPretrained(join(APP_ROOT, 'fixtures', 'diffusers', 'unet2d_tiny')),
        size: 16,
        forward: [1],
        train: [1],
        trainOn: ['wasm+native'],
      },
    ]
  : [
      {
        name: 'DDPM CIFAR-10 (35.7M)',
        load: () => Promise.resolve(UNet2DModel.fromConfig(DDPM_CIFAR10_CONFIG, { seed: 0 })),
        size: 32,
        forward: [1, 8],
        train: [8],
      },
    ];

const kernels = quick
  ? { conv: [1, 16, 16, 32, 32], matMul: [256, 64, 64], groupNorm: [1, 16, 16, 32, 8], softmax: [4, 64, 64] }
  : { conv: [8, 32, 32, 128, 128], matMul: [4096, 320, 320], groupNorm: [8, 32, 32, 256, 32], softmax: [16, 1024, 1024] };

const sinTensor = (shape, phase) =>
  tf.tidy(() =>
    tf.reshape(
      tf.sin(
        tf.add(
          tf.mul(
            tf.range(
              0,
              shape.reduce((a, b) => a * b, 1),
            ),
            0.37,
          ),
          phase,
        ),
      ),
      shape,
    ),
  );

async function modelRows(backend, spec) {
  const rows = [];
  const model = await spec.load();
  const channels = model.config.inChannels;
  // Quick runs (SwiftShader in CI) skip the software GPU's training step: minutes for no information.
  const train = spec.trainOn && !spec.trainOn.includes(backend) ? [] : spec.train;
  for (const [mode, batches] of [
    ['forward', spec.forward],
    ['train step', train],
  ]) {
    for (const batch of batches) {
      const sample = sinTensor([batch, spec.size, spec.size, channels], 0.1);
      const timesteps = tf.tensor1d(
        Array.from({ length: batch }, (_, i) => (i * 97) % 1000),
        'int32',
      );
      let ms;
      if (mode === 'forward') {
        ms = await bestTime(() => model.predict(sample, timesteps), quick ? { repeats: 1, warmUp: 0 } : { repeats: 5 });
      } else {
        const variables = model.trainableVariables();
        const optimizer = new AdamW(variables, { learningRate: 1e-4, weightDecay: 0 });
        const target = sinTensor(sample.shape, 0.7);
        const step = () => {
          const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(model.predict(sample, timesteps), target))), variables);
          optimizer.applyGradients(variables.map((variable) => grads[variable.name]));
          tf.dispose(Object.values(grads));
          return value;
        };
        ms = await bestTime(step, { repeats: quick ? 1 : 3 });
        optimizer.dispose();
        target.dispose();
      }
      const gflop = ((mode === 'forward' ? 1 : 3) * countFlops(model.config, batch, spec.size)) / 1e9;
      rows.push({ backend, model: spec.name, batch, pass: mode, ms, gflop, gflops: gflop / (ms / 1000) });
      console.log(`speed ${backend} ${spec.name} batch ${batch} ${mode}: ${ms.toFixed(1)} ms`);
      tf.dispose([sample, timesteps]);
    }
  }
  model.dispose();
  return rows;
}

async function kernelRows(backend) {
  const [n, h, w, cin, cout] = kernels.conv;
  const [m, k, nn] = kernels.matMul;
  const [gn, gh, gw, gc, groups] = kernels.groupNorm;
  const [heads, queries, keys] = kernels.softmax;
  const cases = [
    {
      op: 'conv2d 3x3',
      shape: kernels.conv,
      gflop: (2 * n * h * w * cin * cout * 9) / 1e9,
      inputs: [
        [n, h, w, cin],
        [3, 3, cin, cout],
      ],
      run: (x, f) => tf.conv2d(x, f, 1, 'same'),
    },
    {
      op: 'matMul',
      shape: kernels.matMul,
      gflop: (2 * m * k * nn) / 1e9,
      inputs: [
        [m, k],
        [k, nn],
      ],
      run: (a, b) => tf.matMul(a, b),
    },
    { op: 'GroupNorm', shape: kernels.groupNorm, inputs: [[gn, gh, gw, gc]], run: (x) => groupNormalize(x, groups) },
    { op: 'softmax', shape: kernels.softmax, inputs: [[heads, queries, keys]], run: (x) => tf.softmax(x) },
  ];
  const rows = [];
  for (const item of cases) {
    const inputs = item.inputs.map((shape, i) => sinTensor(shape, i));
    const ms = await bestTime(() => item.run(...inputs), { repeats: quick ? 2 : 10 });
    tf.dispose(inputs);
    rows.push({ backend, kernel: item.op, shape: item.shape, ms, ...(item.gflop ? { gflops: item.gflop / (ms / 1000) } : {}) });
    console.log(`kernel ${backend} ${item.op} [${item.shape.join(',')}]: ${ms.toFixed(2)} ms`);
  }
  return rows;
}

/** One UNet call of SD 1.5 at 512x512 with guidance's batch of 2: latents [2,64,64,4], text [2,77,768]. */
async function stableDiffusionRow(backend) {
  const unet = UNet2DConditionModel.fromConfig(SD15_UNET_CONFIG, { seed: null });
  const latents = sinTensor([2, 64, 64, 4], 0.3);
  const text = sinTensor([2, 77, 768], 0.9);
  try {
    const ms = await bestTime(() => unet.predict(latents, 999, { encoderHiddenStates: text }), { repeats: 2 });
    const gflop = countFlops(SD15_UNET_CONFIG, 2, 64) / 1e9;
    console.log(`speed ${backend} SD 1.5 UNet 512x512 batch 2 step: ${ms.toFixed(0)} ms`);
    return { backend, model: 'SD 1.5 UNet (859.5M), 512x512', batch: 2, pass: 'denoising step', ms, gflop, gflops: gflop / (ms / 1000) };
  } finally {
    tf.dispose([latents, text]);
    unet.dispose();
  }
}

const available = new Set((await listBackends()).filter((info) => info.available).map((info) => info.name));
const backends = [...['webgpu', 'cuda'].filter((name) => available.has(name)), 'wasm+native'];
const result = { quick, models: [], kernels: [], failures: {}, backends: {} };
for (const backend of backends) {
  try {
    result.backends[backend] = await useBackend(backend);
    result.kernels.push(...(await kernelRows(backend)));
    for (const spec of models) result.models.push(...(await modelRows(backend, spec)));
    writePartJson(out, 'speed', result);
    if (!quick) result.models.push(await stableDiffusionRow(backend));
  } catch (error) {
    result.failures[backend] = messageOf(error);
    console.log(`speed on ${backend} failed: ${messageOf(error)}`);
  }
  // Written after every backend: a later timeout keeps what was measured.
  writePartJson(out, 'speed', result);
}
