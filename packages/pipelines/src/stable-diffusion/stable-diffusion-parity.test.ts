import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { schedulerClass } from '@diffusion-ts/schedulers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  maxRelativeError,
  nhwc,
  readJson,
  ReplayGenerator,
  SD_SMALL_FOLDER,
  SD_SMALL_INPAINT_FOLDER,
  type FixtureArray,
  type PipelineCase,
  type SdSmallIo,
} from '../testing/sd-fixtures.js';
import type { StableDiffusionPipelineBase } from './stable-diffusion-base.js';
import { StableDiffusionImg2ImgPipeline } from './stable-diffusion-img2img.js';
import { StableDiffusionInpaintPipeline } from './stable-diffusion-inpaint.js';
import { StableDiffusionPipeline } from './stable-diffusion.js';

/** Every case within 1e-3 of Diffusers (max(1, |x|) relative). */
const TOLERANCE = 1e-3;
const quiet = { onWarning: () => undefined };

const io = readJson<SdSmallIo>(SD_SMALL_FOLDER, 'io.json');
const cases = readJson<{ cases: (PipelineCase & { name: string; inputs: Record<string, unknown> })[] }>(
  SD_SMALL_FOLDER,
  'pipeline_cases.json',
).cases;
const inpaintCase = readJson<{ cases: (PipelineCase & { name: string; inputs: Record<string, unknown> })[] }>(
  SD_SMALL_INPAINT_FOLDER,
  'io.json',
).cases[0];
const caseNamed = (name: string) => cases.find((c) => c.name === name)!;

/** As Diffusers' `pipe.scheduler = X.from_config(pipe.scheduler.config)` (assigned after construction). */
function swapScheduler(pipeline: StableDiffusionPipelineBase, className: string): void {
  const next = schedulerClass(className).fromConfig(pipeline.scheduler.toConfig());
  pipeline.scheduler.dispose();
  pipeline.scheduler = next;
}

/** Compares final latents, raw-decoded-and-postprocessed images and timesteps with a reference case. */
function errorsOf(
  latents: tf.Tensor4D,
  images: tf.Tensor4D,
  timesteps: readonly number[],
  reference: PipelineCase,
): Record<string, number> {
  expect(timesteps).toEqual(reference.timesteps.data);
  return {
    final_latents: maxRelativeError(latents, reference.final_latents),
    image_postprocessed: maxRelativeError(images, reference.image_postprocessed),
  };
}

describe.each(testBackendNames())('Stable Diffusion pipelines against Diffusers on %s', (backend) => {
  let text: StableDiffusionPipeline;
  const report: Record<string, Record<string, number>> = {};

  beforeAll(async () => {
    await initBackend(backend);
    text = await StableDiffusionPipeline.fromPretrained(SD_SMALL_FOLDER, quiet);
  });

  afterAll(() => {
    text.dispose();
    console.log(`sd_small parity on ${backend}: ${JSON.stringify(report)}`);
  });

  /** Runs `generate` twice (latents, then images), checking that only the outputs stay allocated. */
  async function latentsAndImages(
    run: (outputType: 'latent' | 'tensor') => Promise<{ latents?: tf.Tensor4D; images?: tf.Tensor4D }>,
  ): Promise<[tf.Tensor4D, tf.Tensor4D]> {
    const before = tf.memory().numTensors;
    const { latents } = await run('latent');
    const { images } = await run('tensor');
    expect(tf.memory().numTensors).toBe(before + 2);
    return [latents!, images!];
  }

  it.each(io.cases.map((c) => c.scheduler))('text-to-image with %s matches sd_small/io.json', async (schedulerName) => {
    const reference = io.cases.find((c) => c.scheduler === schedulerName)!;
    swapScheduler(text, schedulerName);
    const start = nhwc(io.start_latents);
    const [latents, images] = await latentsAndImages((outputType) =>
      text.generate({
        prompt: io.prompt,
        negativePrompt: io.negative_prompt,
        guidanceScale: io.guidance_scale,
        numInferenceSteps: io.num_inference_steps,
        latents: start,
        outputType,
      }),
    );
    const errors = errorsOf(latents, images, text.scheduler.timesteps, reference);
    report[schedulerName] = errors;
    for (const [name, error] of Object.entries(errors)) expect(error, `${schedulerName} ${name}`).toBeLessThan(TOLERANCE);
    tf.dispose([start, latents, images]);
  });

  it('text-to-image with DPM++ 2M, prompt lists, 2 images per prompt, guidance rescale and clip skip', async () => {
    const reference = caseNamed('text_to_image_dpmpp_2m');
    const inputs = reference.inputs as {
      prompt: string[];
      negative_prompt: string[];
      num_images_per_prompt: number;
      guidance_scale: number;
      guidance_rescale: number;
      clip_skip: number;
      num_inference_steps: number;
      latents: FixtureArray;
    };
    swapScheduler(text, 'DPMSolverMultistepScheduler');
    const start = nhwc(inputs.latents);
    const [latents, images] = await latentsAndImages((outputType) =>
      text.generate({
        prompt: inputs.prompt,
        negativePrompt: inputs.negative_prompt,
        numImagesPerPrompt: inputs.num_images_per_prompt,
        guidanceScale: inputs.guidance_scale,
        guidanceRescale: inputs.guidance_rescale,
        clipSkip: inputs.clip_skip,
        numInferenceSteps: inputs.num_inference_steps,
        latents: start,
        outputType,
      }),
    );
    const errors = errorsOf(latents, images, text.scheduler.timesteps, reference);
    report[reference.name] = errors;
    for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThan(TOLERANCE);
    tf.dispose([start, latents, images]);
  });

  it('img2img (DDIM, strength 0.6, the VAE posterior sampled with the replayed draws)', async () => {
    const reference = caseNamed('img2img_ddim');
    const inputs = reference.inputs as {
      prompt: string;
      negative_prompt: string;
      guidance_scale: number;
      num_inference_steps: number;
      strength: number;
      image: FixtureArray;
    };
    const pipeline = StableDiffusionImg2ImgPipeline.fromPipeline(text);
    swapScheduler(pipeline, 'DDIMScheduler');
    const image = nhwc(inputs.image);
    const generators: ReplayGenerator[] = [];
    const [latents, images] = await latentsAndImages((outputType) => {
      generators.push(new ReplayGenerator(reference.noise_draws!));
      return pipeline.generate({
        prompt: inputs.prompt,
        negativePrompt: inputs.negative_prompt,
        guidanceScale: inputs.guidance_scale,
        numInferenceSteps: inputs.num_inference_steps,
        strength: inputs.strength,
        image,
        generator: generators.at(-1),
        outputType,
      });
    });
    expect(generators.map((g) => g.remaining)).toEqual([0, 0]);
    const errors = errorsOf(latents, images, pipeline.scheduler.timesteps, reference);
    report[reference.name] = errors;
    for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThan(TOLERANCE);
    tf.dispose([image, latents, images]);
    pipeline.scheduler.dispose();
  });

  it('inpainting with a 4-channel UNet (masked-latent blend, DDIM, strength 0.75)', async () => {
    const reference = caseNamed('inpaint_blend_ddim');
    const inputs = reference.inputs as {
      prompt: string;
      negative_prompt: string;
      guidance_scale: number;
      num_inference_steps: number;
      strength: number;
      image: FixtureArray;
      mask_image: FixtureArray;
    };
    const pipeline = StableDiffusionInpaintPipeline.fromPipeline(text);
    expect(pipeline.inpaintingUNet).toBe(false);
    swapScheduler(pipeline, 'DDIMScheduler');
    const [image, maskImage] = [nhwc(inputs.image), nhwc(inputs.mask_image)];
    const generators: ReplayGenerator[] = [];
    const [latents, images] = await latentsAndImages((outputType) => {
      generators.push(new ReplayGenerator(reference.noise_draws!));
      return pipeline.generate({
        prompt: inputs.prompt,
        negativePrompt: inputs.negative_prompt,
        guidanceScale: inputs.guidance_scale,
        numInferenceSteps: inputs.num_inference_steps,
        strength: inputs.strength,
        image,
        maskImage,
        generator: generators.at(-1),
        outputType,
      });
    });
    expect(generators.map((g) => g.remaining)).toEqual([0, 0]);
    const errors = errorsOf(latents, images, pipeline.scheduler.timesteps, reference);
    report[reference.name] = errors;
    for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThan(TOLERANCE);
    tf.dispose([image, maskImage, latents, images]);
    pipeline.scheduler.dispose();
  });

  it('inpainting with the 9-channel inpainting UNet (sd_small_inpaint, PNDM, given latents)', async () => {
    const reference = inpaintCase;
    const inputs = reference.inputs as {
      prompt: string;
      negative_prompt: string;
      guidance_scale: number;
      num_inference_steps: number;
      strength: number;
      image: FixtureArray;
      mask_image: FixtureArray;
      latents: FixtureArray;
    };
    const pipeline = await StableDiffusionInpaintPipeline.fromPretrained(SD_SMALL_INPAINT_FOLDER, quiet);
    expect(pipeline.inpaintingUNet).toBe(true);
    swapScheduler(pipeline, 'PNDMScheduler');
    const [image, maskImage, start] = [nhwc(inputs.image), nhwc(inputs.mask_image), nhwc(inputs.latents)];
    const generators: ReplayGenerator[] = [];
    const [latents, images] = await latentsAndImages((outputType) => {
      generators.push(new ReplayGenerator(reference.noise_draws!));
      return pipeline.generate({
        prompt: inputs.prompt,
        negativePrompt: inputs.negative_prompt,
        guidanceScale: inputs.guidance_scale,
        numInferenceSteps: inputs.num_inference_steps,
        strength: inputs.strength,
        image,
        maskImage,
        latents: start,
        generator: generators.at(-1),
        outputType,
      });
    });
    expect(generators.map((g) => g.remaining)).toEqual([0, 0]);
    const errors = errorsOf(latents, images, pipeline.scheduler.timesteps, reference);
    report[reference.name] = errors;
    for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThan(TOLERANCE);
    tf.dispose([image, maskImage, start, latents, images]);
    pipeline.dispose();
  });
});
