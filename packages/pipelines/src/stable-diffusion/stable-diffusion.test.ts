import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { setAttentionScoreBudget, UNet2DConditionModel } from '@diffusion-ts/models';
import { DDIMScheduler, DPMSolverMultistepScheduler } from '@diffusion-ts/schedulers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SD_SMALL_FOLDER, SD_SMALL_INPAINT_FOLDER } from '../testing/sd-fixtures.js';
import { CLIPTokenizer } from '@diffusion-ts/tokenizers';
import { MemoryPlanError } from './memory-plan.js';
import { clipTokenizerLoaders } from './prompt-tokenizer.js';
import { stageEstimates } from './stable-diffusion-plan.js';
import { StableDiffusionInpaintPipeline } from './stable-diffusion-inpaint.js';
import { StableDiffusionPipeline } from './stable-diffusion.js';

const quiet = { onWarning: () => undefined };
const base = { prompt: 'a fox', negativePrompt: 'blurry', numInferenceSteps: 2, guidanceScale: 5, seed: 3 };

/** A copy of sd_small with `edit` applied to a JSON file of it. */
async function editedCopy(file: string, edit: (json: Record<string, unknown>) => void): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'sd-small-'));
  await cp(SD_SMALL_FOLDER, folder, { recursive: true });
  const json = JSON.parse(await readFile(join(folder, file), 'utf8')) as Record<string, unknown>;
  edit(json);
  await writeFile(join(folder, file), JSON.stringify(json));
  return folder;
}

describe.each(testBackendNames())('StableDiffusionPipeline on %s', (backend) => {
  let pipeline: StableDiffusionPipeline;
  const folders: string[] = [];

  beforeAll(async () => {
    await initBackend(backend);
    pipeline = await StableDiffusionPipeline.fromPretrained(SD_SMALL_FOLDER, quiet);
  });

  afterAll(async () => {
    pipeline.dispose();
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it('loads sd_small with its plan, and gives PNG files, tensors and latents of the right sizes', async () => {
    expect(pipeline.memoryPlan?.rows.map((row) => row.component)).toEqual(['unet', 'vae', 'text_encoder']);
    expect(pipeline.memoryPlan?.residency).toBe('resident');
    expect(pipeline.vaeScaleFactor).toBe(2);
    const before = tf.memory().numTensors;
    const { png } = await pipeline.generate({ ...base, outputType: 'png', numImagesPerPrompt: 2 });
    expect(png).toHaveLength(2);
    expect([...png![0].subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const { images } = await pipeline.generate({ ...base, height: 24, width: 32 });
    expect(images!.shape).toEqual([1, 24, 32, 3]);
    const [low, high] = tf.tidy(() => [tf.min(images!).dataSync()[0], tf.max(images!).dataSync()[0]]);
    expect(low).toBeGreaterThanOrEqual(0);
    expect(high).toBeLessThanOrEqual(1);
    const { latents } = await pipeline.generate({ ...base, outputType: 'latent' });
    expect(latents!.shape).toEqual([1, 8, 8, 4]);
    tf.dispose([images!, latents!]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses bad input before the first step', async () => {
    const predict = vi.spyOn(pipeline.unet, 'predict');
    const latents = tf.zeros([1, 8, 8, 4]) as tf.Tensor4D;
    const embeds = tf.zeros([2, 77, 32]) as tf.Tensor3D;
    const narrow = tf.zeros([2, 77, 16]) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    await expect(pipeline.generate({ ...base, prompt: ['a', 'b'], negativePrompt: ['c'] })).rejects.toThrow(
      /negativePrompt has 1 entries but there are 2 prompts/,
    );
    await expect(pipeline.generate({ ...base, prompt: ['a', 'b'], negativePrompt: 'c' })).rejects.toThrow(
      /negativePrompt must be a list like prompt/,
    );
    await expect(pipeline.generate({ ...base, prompt: ['a', 'b'], negativePrompt: ['c', 'd'], latents })).rejects.toThrow(
      /latents must be \[2, 8, 8, 4\]/,
    );
    await expect(pipeline.generate({ ...base, height: 20 })).rejects.toThrow(/height must be a positive multiple of 8, got 20/);
    await expect(pipeline.generate({ ...base, width: 12 })).rejects.toThrow(/width must be a positive multiple of 8/);
    await expect(
      pipeline.generate({
        ...base,
        prompt: undefined,
        negativePrompt: undefined,
        promptEmbeds: embeds,
        negativePromptEmbeds: latents as unknown as tf.Tensor3D,
      }),
    ).rejects.toThrow(/must be a \[B, S, D\] tensor/);
    await expect(pipeline.generate({ ...base, prompt: undefined, negativePrompt: undefined, promptEmbeds: narrow })).rejects.toThrow(
      /width 16 but the UNet's cross_attention_dim is 32/,
    );
    await expect(pipeline.generate({ ...base, prompt: 'x', promptEmbeds: embeds })).rejects.toThrow(/prompt or promptEmbeds, not both/);
    await expect(pipeline.generate({ ...base, numImagesPerPrompt: 0 })).rejects.toThrow(/numImagesPerPrompt must be a positive integer/);
    await expect(pipeline.generate({ ...base, clipSkip: 2 })).rejects.toThrow(/clipSkip 2 skips every one of the text encoder's 2 layers/);
    await expect(pipeline.generate({ ...base, guidanceRescale: 2 })).rejects.toThrow(/guidanceRescale must lie in \[0, 1\]/);
    await expect(pipeline.generate({ ...base, numInferenceSteps: 1001 })).rejects.toThrow(
      /exceeds the scheduler's 1000 training timesteps/,
    );
    expect(predict).not.toHaveBeenCalled();
    expect(tf.memory().numTensors).toBe(before);
    predict.mockRestore();
    tf.dispose([latents, embeds, narrow]);
  });

  it('loads the tokenizer with a given CLIPTokenizer class (as browser bundles do)', async () => {
    const loaded = await StableDiffusionPipeline.fromPretrained(SD_SMALL_FOLDER, {
      ...quiet,
      loaders: clipTokenizerLoaders(CLIPTokenizer),
    });
    const [a, b] = [
      (await pipeline.generate({ ...base, numInferenceSteps: 1, outputType: 'latent' })).latents!,
      (await loaded.generate({ ...base, numInferenceSteps: 1, outputType: 'latent' })).latents!,
    ];
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])).toBe(0);
    tf.dispose([a, b]);
    loaded.dispose();
  });

  it('runs from prompt embeddings without a tokenizer or text encoder, equal to the prompt path', async () => {
    const { vae, unet, scheduler } = pipeline;
    const textless = new StableDiffusionPipeline({ vae, unet, scheduler });
    await expect(textless.generate(base)).rejects.toThrow(/no tokenizer; pass promptEmbeds instead of prompt/);
    const embed = (text: string) => {
      const { inputIds, attentionMask } = pipeline.tokenizer!.encodeTensors([text]);
      const { lastHiddenState, poolerOutput } = pipeline.textEncoder!.encode(inputIds);
      tf.dispose([inputIds, attentionMask, poolerOutput]);
      return lastHiddenState;
    };
    const [promptEmbeds, negativePromptEmbeds] = [embed(base.prompt), embed(base.negativePrompt)];
    const fromText = (await pipeline.generate({ ...base, outputType: 'latent' })).latents!;
    const fromEmbeds = (
      await textless.generate({
        ...base,
        prompt: undefined,
        negativePrompt: undefined,
        promptEmbeds,
        negativePromptEmbeds,
        outputType: 'latent',
      })
    ).latents!;
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(fromText, fromEmbeds))).dataSync()[0])).toBe(0);
    tf.dispose([promptEmbeds, negativePromptEmbeds, fromText, fromEmbeds]);
  });

  it('stops on abort with every tensor freed, reports each step, and swaps schedulers', async () => {
    const controller = new AbortController();
    const steps: number[] = [];
    const before = tf.memory().numTensors;
    const run = pipeline.generate({
      ...base,
      numInferenceSteps: 4,
      signal: controller.signal,
      onStep: (index) => {
        steps.push(index);
        if (index === 1) controller.abort(new Error('stopped'));
      },
    });
    await expect(run).rejects.toThrow('stopped');
    expect(steps).toEqual([0, 1]);
    expect(tf.memory().numTensors).toBe(before);
    const original = pipeline.scheduler;
    pipeline.scheduler = DPMSolverMultistepScheduler.fromConfig(original.toConfig());
    const { latents } = await pipeline.generate({ ...base, outputType: 'latent' });
    expect(latents!.shape).toEqual([1, 8, 8, 4]);
    latents!.dispose();
    pipeline.scheduler.dispose();
    pipeline.scheduler = original;
  });

  it("applies Diffusers' constructor fixes to the scheduler it is built with, not to one assigned later", () => {
    const { vae, unet, textEncoder, tokenizer } = pipeline;
    const ddim = DDIMScheduler.fromConfig({ steps_offset: 0 });
    expect(ddim.config).toMatchObject({ clipSample: true, stepsOffset: 0 });
    const notes: string[] = [];
    const built = new StableDiffusionPipeline({ vae, unet, textEncoder, tokenizer, scheduler: ddim, onWarning: (m) => notes.push(m) });
    expect(built.scheduler.config).toMatchObject({ clipSample: false, stepsOffset: 1 });
    expect(notes[0]).toMatch(/steps_offset 0 and clip_sample true; using steps_offset 1 and clip_sample false/);
    built.scheduler = DDIMScheduler.fromConfig({});
    expect(built.scheduler.config).toMatchObject({ clipSample: true });
  });

  it('refuses components that do not fit together, and inpainting UNets outside inpainting', async () => {
    const { vae, textEncoder, tokenizer, scheduler } = pipeline;
    const nineChannels = await UNet2DConditionModel.fromPretrained(SD_SMALL_INPAINT_FOLDER, { subfolder: 'unet' });
    expect(() => new StableDiffusionPipeline({ vae, unet: nineChannels, textEncoder, tokenizer, scheduler })).toThrow(
      /latents but the UNet takes in_channels 9 \(expected 4\)/,
    );
    const inpaint = new StableDiffusionInpaintPipeline({ vae, unet: nineChannels, textEncoder, tokenizer, scheduler });
    expect(inpaint.inpaintingUNet).toBe(true);
    nineChannels.dispose();
  });

  it('names a missing or unknown component, and mismatched configs, before reading any weights', async () => {
    const unknown = await editedCopy('model_index.json', (json) => (json.unet = ['diffusers', 'UNet3DConditionModel']));
    const missing = await editedCopy('model_index.json', (json) => delete json.vae);
    const channels = await editedCopy('vae/config.json', (json) => (json.latent_channels = 8));
    const hidden = await editedCopy('text_encoder/config.json', (json) => (json.hidden_size = 64));
    folders.push(unknown, missing, channels, hidden);
    await expect(StableDiffusionPipeline.fromPretrained(unknown, quiet)).rejects.toThrow(
      /component 'unet' is a UNet3DConditionModel, expected UNet2DConditionModel/,
    );
    await expect(StableDiffusionPipeline.fromPretrained(missing, quiet)).rejects.toThrow(/does not list a 'vae' component/);
    await expect(StableDiffusionPipeline.fromPretrained(channels, quiet)).rejects.toThrow(
      /the VAE makes 8-channel latents but the UNet takes in_channels 4/,
    );
    await expect(StableDiffusionPipeline.fromPretrained(hidden, quiet)).rejects.toThrow(
      /the text encoder's hidden size is 64 but the UNet's cross_attention_dim is 32/,
    );
  });

  it("takes the load limits and the models' size budget like every pipeline, before any weights are read", async () => {
    await expect(StableDiffusionPipeline.fromPretrained(SD_SMALL_FOLDER, { ...quiet, budget: { maxParameters: 100 } })).rejects.toThrow(
      /budget of 100 /,
    );
    await expect(StableDiffusionPipeline.fromPretrained(SD_SMALL_FOLDER, { ...quiet, maxWeightsBytes: 1000 })).rejects.toMatchObject({
      name: 'LoadError',
      fault: 'too-large',
    });
    await expect(StableDiffusionPipeline.fromPretrained(SD_SMALL_FOLDER, { ...quiet, maxTextBytes: 16 })).rejects.toMatchObject({
      name: 'LoadError',
      fault: 'too-large',
    });
    const reason = new Error('stop');
    await expect(StableDiffusionPipeline.fromPretrained(SD_SMALL_FOLDER, { ...quiet, signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
  });

  it('refuses, from the safetensors headers alone, a UNet that cannot fit the backend', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'sd-huge-'));
    folders.push(folder);
    await cp(SD_SMALL_FOLDER, folder, { recursive: true });
    // A header that declares 6.4 GB of float32 weights; the data is never read.
    const text = JSON.stringify({ 'conv_in.weight': { dtype: 'F32', shape: [40000, 40000], data_offsets: [0, 6_400_000_000] } });
    const bytes = new Uint8Array(8 + text.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
    bytes.set(new TextEncoder().encode(text), 8);
    await writeFile(join(folder, 'unet', 'diffusion_pytorch_model.safetensors'), bytes);
    const failure = StableDiffusionPipeline.fromPretrained(folder, quiet);
    if (backend === 'wasm') {
      await expect(failure).rejects.toThrow(MemoryPlanError);
      await expect(StableDiffusionPipeline.fromPretrained(folder, quiet)).rejects.toThrow(
        /the unet needs 5\.96 GiB of float32 weights .* more than the wasm backend can hold \(3\.94 GiB usable of 4\.00 GiB/,
      );
    } else {
      // The cpu backend can hold it (the machine's memory); loading then fails on the truncated file.
      await expect(failure).rejects.toThrow(/declares \d+ bytes but the file has/);
    }
  });

  it('saves a folder that loads back to the same images (model_index.json as Diffusers writes it)', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'sd-saved-'));
    folders.push(folder);
    await pipeline.save(folder);
    const index = JSON.parse(await readFile(join(folder, 'model_index.json'), 'utf8')) as Record<string, unknown>;
    expect(index).toMatchObject({
      _class_name: 'StableDiffusionPipeline',
      scheduler: ['diffusers', 'PNDMScheduler'],
      text_encoder: ['transformers', 'CLIPTextModel'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      unet: ['diffusers', 'UNet2DConditionModel'],
      vae: ['diffusers', 'AutoencoderKL'],
    });
    for (const file of ['vocab.json', 'merges.txt', 'tokenizer_config.json']) {
      expect(await readFile(join(folder, 'tokenizer', file), 'utf8')).toBe(
        await readFile(join(SD_SMALL_FOLDER, 'tokenizer', file), 'utf8'),
      );
    }
    const reloaded = await StableDiffusionPipeline.fromPretrained(folder, quiet);
    const [a, b] = [
      (await pipeline.generate({ ...base, outputType: 'latent' })).latents!,
      (await reloaded.generate({ ...base, outputType: 'latent' })).latents!,
    ];
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])).toBe(0);
    tf.dispose([a, b]);
    reloaded.dispose();
  });

  it('decodes in tiles when the untiled decode would not fit the memory limit, and refuses what cannot fit', async () => {
    // A small attention budget and no guidance make the VAE decode, not the UNet, the largest stage here.
    setAttentionScoreBudget(2 ** 12);
    try {
      const { vae, unet, textEncoder, tokenizer, scheduler } = pipeline;
      const weights = [unet, vae, textEncoder!].reduce(
        (sum, model) => sum + 4 * model.trainableVariables().reduce((count, v) => count + v.size, 0),
        0,
      );
      const configs = { unet: unet.toConfig(), vae: vae.toConfig() };
      const untiled = stageEstimates(configs, 1, 32, 32, false);
      const tiled = stageEstimates(configs, 1, 16, 16, false).vae;
      const memoryLimit = weights + Math.max(untiled.unet, tiled) + 1024;
      expect(memoryLimit).toBeLessThan(weights + untiled.vae);
      const capped = new StableDiffusionPipeline({ vae, unet, textEncoder, tokenizer, scheduler, memoryLimit });
      const options = { ...base, guidanceScale: 1, numInferenceSteps: 1, height: 32, width: 32 };
      const { latents } = await capped.generate({ ...options, outputType: 'latent' });
      const { images } = await capped.generate(options);
      const expected = tf.tidy(() =>
        tf.clipByValue(tf.add(tf.div(vae.decode(tf.div(latents!, vae.scalingFactor) as tf.Tensor4D, { tiling: true }), 2), 0.5), 0, 1),
      );
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(images!, expected))).dataSync()[0])).toBe(0);
      tf.dispose([latents!, images!, expected]);
      const tight = new StableDiffusionPipeline({ vae, unet, textEncoder, tokenizer, scheduler, memoryLimit: weights / 2 });
      await expect(tight.generate(base)).rejects.toThrow(MemoryPlanError);
    } finally {
      setAttentionScoreBudget(null);
    }
  });

  it('runs with only the running stage resident (sequential) to the same result', async () => {
    const sequential = await StableDiffusionPipeline.fromPretrained(SD_SMALL_FOLDER, { ...quiet, residency: 'sequential' });
    expect(sequential.residency).toBe('sequential');
    const [a, b] = [
      (await pipeline.generate({ ...base, outputType: 'latent' })).latents!,
      (await sequential.generate({ ...base, outputType: 'latent' })).latents!,
    ];
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])).toBe(0);
    tf.dispose([a, b]);
    sequential.dispose();
  });
});
