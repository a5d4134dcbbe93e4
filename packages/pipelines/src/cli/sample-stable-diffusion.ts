/** `diffusion-ts sample` on a Stable Diffusion folder: text-to-image, img2img (`--init-image`) or inpainting (`--mask`). */
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Generator, writeFileAtomic } from '@diffusion-ts/core';
import { schedulerFromConfig } from '@diffusion-ts/schedulers';
import { decodeImage, type DecodedImage } from '../data/image-folder.js';
import { imageGrid, scaleImage, tensorToImages, writePng } from '../images.js';
import type { StableDiffusionPipelineBase } from '../stable-diffusion/stable-diffusion-base.js';
import { StableDiffusionImg2ImgPipeline } from '../stable-diffusion/stable-diffusion-img2img.js';
import { StableDiffusionInpaintPipeline } from '../stable-diffusion/stable-diffusion-inpaint.js';
import { StableDiffusionPipeline } from '../stable-diffusion/stable-diffusion.js';
import { initCommandBackend, integerOption, numberOption, schedulerOption, seedOption, UsageError } from './arguments.js';

/** The `sample` options a Stable Diffusion folder reads. */
export interface StableDiffusionSampleValues {
  prompt?: string;
  'negative-prompt'?: string;
  guidance?: string;
  steps?: string;
  scheduler?: string;
  height?: string;
  width?: string;
  seed?: string;
  count?: string;
  'init-image'?: string;
  strength?: string;
  mask?: string;
  variant?: string;
  output: string;
  backend?: string;
  threads?: string;
}

/** Decoded 8-bit pixels as a [1, H, W, channels] tensor in [0, 1]: RGB (grey repeated, alpha dropped), or the luminance (PIL's `L`) for masks. */
function pixelsToTensor(image: DecodedImage, channels: 1 | 3): tf.Tensor4D {
  const { width, height, pixels } = image;
  const from = image.channels;
  const out = new Float32Array(width * height * channels);
  for (let i = 0; i < width * height; i += 1) {
    const p = pixels.subarray(i * from, i * from + from);
    const rgb = from >= 3 ? [p[0], p[1], p[2]] : [p[0], p[0], p[0]];
    if (channels === 1) out[i] = Math.trunc((rgb[0] * 299 + rgb[1] * 587 + rgb[2] * 114) / 1000) / 255;
    else for (let c = 0; c < 3; c += 1) out[i * 3 + c] = rgb[c] / 255;
  }
  return tf.tensor4d(out, [1, height, width, channels]);
}

async function readImageFile(path: string, channels: 1 | 3): Promise<tf.Tensor4D> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch {
    throw new UsageError(`cannot read ${path}`);
  }
  return pixelsToTensor(decodeImage(bytes, basename(path)), channels);
}

/** A text progress bar on stderr: `[#####-----] 5/10  1.3 s/step`. */
function progressBar(total: number): (index: number) => void {
  const started = performance.now();
  return (index) => {
    const done = index + 1;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const perStep = (performance.now() - started) / 1000 / done;
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}  ${perStep.toFixed(2)} s/step${done === total ? '\n' : ''}`,
    );
  };
}

/** Runs `sample` on a Stable Diffusion folder (`className` from its `model_index.json`). */
export async function sampleStableDiffusion(folder: string, className: string, values: StableDiffusionSampleValues): Promise<void> {
  if (values.prompt === undefined) throw new UsageError(`--prompt is required: ${folder} is a ${className} folder`);
  if (values.mask !== undefined && values['init-image'] === undefined)
    throw new UsageError('--mask needs --init-image (the image to repaint)');
  const steps = integerOption(values.steps, 'steps', 30);
  const guidanceScale = numberOption(values.guidance, 'guidance', 7.5, 0);
  const count = integerOption(values.count, 'count', 1, 1, 64);
  const seed = seedOption(values.seed);
  const height = values.height === undefined ? undefined : integerOption(values.height, 'height', 512, 8);
  const width = values.width === undefined ? undefined : integerOption(values.width, 'width', 512, 8);
  const strength = values.strength === undefined ? undefined : numberOption(values.strength, 'strength', 0.8, 0);
  const scheduler = values.scheduler;
  if (scheduler !== undefined) schedulerOption(scheduler);
  const { backend } = await initCommandBackend(values);
  const image = values['init-image'] === undefined ? undefined : await readImageFile(values['init-image'], 3);
  const maskImage = values.mask === undefined ? undefined : await readImageFile(values.mask, 1);
  const loadStarted = performance.now();
  const loadOptions = { variant: values.variant };
  const pipeline: StableDiffusionPipelineBase =
    maskImage !== undefined
      ? await StableDiffusionInpaintPipeline.fromPretrained(folder, loadOptions)
      : image !== undefined
        ? await StableDiffusionImg2ImgPipeline.fromPretrained(folder, loadOptions)
        : await StableDiffusionPipeline.fromPretrained(folder, loadOptions);
  try {
    if (scheduler !== undefined) {
      // The short name's preset over the folder's config, assigned after loading (kept as it is).
      const previous = pipeline.scheduler;
      pipeline.scheduler = schedulerFromConfig(previous.toConfig(), scheduler);
      previous.dispose();
    }
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const common = {
      prompt: values.prompt,
      negativePrompt: values['negative-prompt'],
      guidanceScale,
      numInferenceSteps: steps,
      numImagesPerPrompt: count,
      generator: new Generator(seed),
      height,
      width,
    };
    const started = performance.now();
    let bar: ((index: number) => void) | undefined;
    const onStep = (index: number): void => {
      bar ??= progressBar(pipeline.scheduler.timesteps.length);
      bar(index);
    };
    const result =
      pipeline instanceof StableDiffusionInpaintPipeline
        ? await pipeline.generate({ ...common, image: image!, maskImage: maskImage!, strength, onStep })
        : pipeline instanceof StableDiffusionImg2ImgPipeline
          ? await pipeline.generate({ ...common, image: image!, strength, onStep })
          : await (pipeline as StableDiffusionPipeline).generate({ ...common, onStep });
    const images = result.images!;
    const seconds = (performance.now() - started) / 1000;
    const output = resolve(values.output);
    if (count === 1) {
      const { imagesToPng } = await import('../stable-diffusion/sd-images.js');
      await writeFileAtomic(output, (await imagesToPng(images))[0]);
    } else {
      const signed = tf.tidy(() => tf.sub(tf.mul(images, 2), 1) as tf.Tensor4D);
      const grid = imageGrid(await tensorToImages(signed));
      signed.dispose();
      await writePng(output, scaleImage(grid, 1));
    }
    images.dispose();
    const [, h, w] = images.shape;
    console.log(
      `wrote ${output}: ${count} image${count === 1 ? '' : 's'} of ${w}x${h}, ${pipeline.scheduler.className} ${steps} steps, guidance ${guidanceScale}, seed ${seed}, ${backend}, loaded in ${loadSeconds.toFixed(1)} s, generated in ${seconds.toFixed(1)} s`,
    );
  } finally {
    pipeline.dispose();
    tf.dispose([image, maskImage].filter((t): t is tf.Tensor4D => t !== undefined));
  }
}
