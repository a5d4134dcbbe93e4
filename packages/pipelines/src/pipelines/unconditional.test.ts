import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator, initBackend, loadSafetensors } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { UNet2DModel } from '@diffusion-ts/models';
import {
  DDIMScheduler,
  DDPMScheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  FlowMatchEulerDiscreteScheduler,
  HeunDiscreteScheduler,
  LCMScheduler,
  PNDMScheduler,
  type Scheduler,
} from '@diffusion-ts/schedulers';
import { TINY_UNET } from '@diffusion-ts/models/testing';
import { UnconditionalPipeline } from './unconditional.js';

const SCHEDULERS: Array<[string, () => Scheduler]> = [
  ['DDPM', () => new DDPMScheduler()],
  ['DDIM', () => new DDIMScheduler()],
  ['PNDM', () => new PNDMScheduler({ skipPrkSteps: true })],
];

describe.each(testBackendNames())('UnconditionalPipeline on %s', (backend) => {
  let unet: UNet2DModel;
  let folder: string;
  beforeAll(async () => {
    await initBackend(backend);
    unet = UNet2DModel.fromConfig(TINY_UNET, { seed: 1 });
    folder = await mkdtemp(join(tmpdir(), 'pipelines-test-'));
  });
  afterAll(async () => {
    unet.dispose();
    await rm(folder, { recursive: true, force: true });
  });

  describe.each(SCHEDULERS)('with %s', (name, makeScheduler) => {
    it('makes finite [B, 8, 8, 1] images, the same for the same seed, without leaking tensors', async () => {
      const pipeline = new UnconditionalPipeline({ unet, scheduler: makeScheduler() });
      const before = tf.memory().numTensors;
      const steps: number[] = [];
      const counts: number[] = [];
      const first = await pipeline.generate({
        batchSize: 2,
        numInferenceSteps: 4,
        generator: new Generator(7),
        onStep: (index, timestep, sample) => {
          steps.push(index);
          counts.push(tf.memory().numTensors);
          expect(sample.shape).toEqual([2, 8, 8, 1]);
          expect(Number.isInteger(timestep)).toBe(true);
        },
      });
      const second = await pipeline.generate({ batchSize: 2, numInferenceSteps: 4, generator: new Generator(7) });
      expect(first.images.shape).toEqual([2, 8, 8, 1]);
      const a = await first.images.data();
      const b = await second.images.data();
      expect(a.every(Number.isFinite)).toBe(true);
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(steps).toEqual([...Array(pipeline.scheduler.timesteps.length).keys()]);
      if (name !== 'PNDM') expect(new Set(counts).size).toBe(1);
      tf.dispose([first.images, second.images]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it('runs end to end with the sigma solvers (float timesteps, σ-scaled start noise and input scaling)', async () => {
    const solvers: Scheduler[] = [
      new EulerDiscreteScheduler({ useKarrasSigmas: true }),
      new EulerAncestralDiscreteScheduler({ timestepSpacing: 'trailing' }),
      new HeunDiscreteScheduler(),
      new LCMScheduler(),
      new FlowMatchEulerDiscreteScheduler({ shift: 3 }),
    ];
    for (const scheduler of solvers) {
      const pipeline = new UnconditionalPipeline({ unet, scheduler });
      const before = tf.memory().numTensors;
      const timesteps: number[] = [];
      const first = await pipeline.generate({
        batchSize: 2,
        numInferenceSteps: 4,
        generator: new Generator(5),
        onStep: (_, timestep) => void timesteps.push(timestep),
      });
      const second = await pipeline.generate({ batchSize: 2, numInferenceSteps: 4, generator: new Generator(5) });
      const a = await first.images.data();
      expect([scheduler.className, a.every(Number.isFinite)]).toEqual([scheduler.className, true]);
      expect(Array.from(a)).toEqual(Array.from(await second.images.data()));
      expect(timesteps).toEqual(scheduler.timesteps);
      tf.dispose([first.images, second.images]);
      expect([scheduler.className, tf.memory().numTensors]).toEqual([scheduler.className, before]);
    }
  });

  it('stops on abort and frees every tensor', async () => {
    const pipeline = new UnconditionalPipeline({ unet, scheduler: new DDIMScheduler() });
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    await expect(
      pipeline.generate({
        numInferenceSteps: 5,
        generator: new Generator(1),
        signal: controller.signal,
        onStep: (index) => (index === 1 ? controller.abort() : undefined),
      }),
    ).rejects.toThrow(/abort/i);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects more steps than the schedule has', async () => {
    const pipeline = new UnconditionalPipeline({ unet, scheduler: new DDIMScheduler({ numTrainTimesteps: 10 }) });
    await expect(pipeline.generate({ numInferenceSteps: 11 })).rejects.toThrow(/exceeds/);
  });

  it('saves and loads a Diffusers pipeline folder, with a scheduler override', async () => {
    const target = join(folder, `saved-${backend}`);
    const pipeline = new UnconditionalPipeline({ unet, scheduler: new DDPMScheduler() });
    await pipeline.save(target);
    const loaded = await UnconditionalPipeline.fromPretrained(target, { scheduler: 'ddim' });
    expect(loaded.scheduler.className).toBe('DDIMScheduler');
    const [x, y] = await Promise.all([
      new UnconditionalPipeline({ unet, scheduler: new DDIMScheduler() }).generate({ numInferenceSteps: 3, generator: new Generator(3) }),
      loaded.generate({ numInferenceSteps: 3, generator: new Generator(3) }),
    ]);
    expect(Array.from(await y.images.data())).toEqual(Array.from(await x.images.data()));
    tf.dispose([x.images, y.images]);
    loaded.dispose();
    // Short names of the solvers load the folder's config with their options set over it.
    const karras = await UnconditionalPipeline.fromPretrained(target, { scheduler: 'dpm++2m-karras' });
    expect(karras.scheduler.className).toBe('DPMSolverMultistepScheduler');
    expect(karras.scheduler.toConfig()).toMatchObject({
      algorithm_type: 'dpmsolver++',
      solver_order: 2,
      use_karras_sigmas: true,
      beta_schedule: 'linear',
    });
    karras.dispose();
    await expect(UnconditionalPipeline.fromPretrained(target, { scheduler: 'flow-euler' })).rejects.toThrow(
      /cannot build from a config of 'DDPMScheduler'/,
    );
    await expect(UnconditionalPipeline.fromPretrained(target, { scheduler: 'fancy' })).rejects.toThrow(/unknown scheduler 'fancy'/);
    await expect(UnconditionalPipeline.fromPretrained(target, { scheduler: 'LMSDiscreteScheduler' })).rejects.toThrow(
      /needs LMSDiscreteScheduler, which this version of @diffusion-ts\/schedulers does not implement/,
    );
    const euler = await UnconditionalPipeline.fromPretrained(target, { scheduler: 'EulerDiscreteScheduler' });
    expect(euler.scheduler.className).toBe('EulerDiscreteScheduler');
    euler.dispose();
    // The load limits and the size budget reach every file and the UNet (issue 17).
    await expect(UnconditionalPipeline.fromPretrained(target, { maxTextBytes: 64 })).rejects.toMatchObject({
      name: 'LoadError',
      fault: 'too-large',
    });
    await expect(UnconditionalPipeline.fromPretrained(target, { budget: { maxParameters: 100 } })).rejects.toThrow(/budget of 100 /);
    await expect(UnconditionalPipeline.fromPretrained(target, { maxWeightsBytes: 1000 })).rejects.toMatchObject({ fault: 'too-large' });
    // Limits the files fit are used for the reads only: they do not become fields of the pipeline.
    const limited = await UnconditionalPipeline.fromPretrained(target, {
      timeoutMs: 10_000,
      maxTextBytes: 2 ** 20,
      budget: { maxParameters: 1e6 },
    });
    expect(Object.keys(limited).sort()).toEqual(['scheduler', 'unet']);
    limited.dispose();
  });

  it('saves the models of a folder in half precision with save({ dtype })', async () => {
    const target = join(folder, `saved-f16-${backend}`);
    const pipeline = new UnconditionalPipeline({ unet, scheduler: new DDIMScheduler() });
    await pipeline.save(target, { dtype: 'float16' });
    const file = await loadSafetensors(join(target, 'unet', 'diffusion_pytorch_model.safetensors'));
    expect(new Set(Object.values(file.tensors).map((tensor) => tensor.dtype))).toEqual(new Set(['F16']));
    const loaded = await UnconditionalPipeline.fromPretrained(target);
    expect(loaded.scheduler.className).toBe('DDIMScheduler');
    const [original, widened] = [unet.trainableVariables()[0], loaded.unet.trainableVariables()[0]];
    const expected = Array.from(await original.data(), (value) => Math.abs(value));
    const gap = tf.tidy(() => tf.abs(tf.sub(original, widened)));
    const difference = Array.from(await gap.data());
    gap.dispose();
    // float16 keeps 11 significant bits: each weight within 2^-11 of its magnitude (plus subnormals).
    difference.forEach((value, i) => expect(value).toBeLessThanOrEqual(expected[i] * 2 ** -11 + 2 ** -24));
    loaded.dispose();
  });

  it('names what is missing in a broken folder', async () => {
    await expect(UnconditionalPipeline.fromPretrained(join(folder, 'nothing-here'))).rejects.toThrow(/model_index\.json is missing/);
    const broken = join(folder, `broken-${backend}`);
    await mkdir(broken, { recursive: true });
    await writeFile(
      join(broken, 'model_index.json'),
      '{"_class_name": "DDPMPipeline", "unet": ["diffusers", "UNet2DModel"], "scheduler": ["diffusers", "DDPMScheduler"]}',
    );
    await expect(UnconditionalPipeline.fromPretrained(broken)).rejects.toThrow(/scheduler_config\.json is missing/);
  });
});
