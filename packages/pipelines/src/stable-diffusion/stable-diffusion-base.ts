/**
 * What the Stable Diffusion pipelines share: the components and their checks, Diffusers' scheduler
 * config fixes at construction, `fromPretrained` / `save` / `dispose`, the common `generate`
 * options, prompt encoding, memory residency per stage, and decoding to the requested output.
 * Each pipeline's `generate` holds its own loop.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backendMemoryLimit, Generator, moveToHostMemory, randn, type PretrainedSource } from '@diffusion-ts/core';
import type { AutoencoderKL, UNet2DConditionModel } from '@diffusion-ts/models';
import { schedulerFromConfig, type Scheduler } from '@diffusion-ts/schedulers';
import type { StepCallback } from '../pipelines/denoise-loop.js';
import { checkComponentShapes, shapesOf, type PipelineTask, type PromptEncoder, type StableDiffusionComponents } from './components.js';
import { checkPromptOptions, encodePrompt, type PromptBatch, type PromptOptions } from './encode-prompt.js';
import { MemoryPlanError, planMemory, type MemoryPlan, type MemoryPlanRow, type Residency } from './memory-plan.js';
import type { PromptTokenizer, TokenizerFiles } from './prompt-tokenizer.js';
import { denormalizeImage, imagesToPng } from './sd-images.js';
import { loadStableDiffusionFolder, saveStableDiffusionFolder, stageEstimates, type StableDiffusionFromPretrainedOptions } from './stable-diffusion-folder.js';

/** What `generate` returns: `'tensor'` images, `'png'` files or `'latent'` latents. */
export type StableDiffusionOutputType = 'tensor' | 'png' | 'latent';

/** Options every Stable Diffusion pipeline's `generate` takes. */
export interface StableDiffusionGenerateOptions extends PromptOptions {
  /** Image height, a multiple of 8 (default: the UNet's `sample_size` x the VAE's factor). */
  height?: number;
  /** Image width, a multiple of 8 (default as `height`). */
  width?: number;
  /** Denoising steps (default 50). */
  numInferenceSteps?: number;
  /** Classifier-free guidance weight; above 1 the batch is doubled (default 7.5). */
  guidanceScale?: number;
  /** Guidance rescale r in [0, 1] (default 0; text-to-image only, as Diffusers). */
  guidanceRescale?: number;
  /** DDIM's η (default 0); other schedulers ignore it. */
  eta?: number;
  /** Seeded random stream (start noise, VAE posterior samples, stochastic steps). */
  generator?: Generator;
  /** Seed of a new generator when none is given (default: random). */
  seed?: number;
  /** `'tensor'` (default): images NHWC in [0, 1]; `'png'`: PNG files; `'latent'`: the final latents, undecoded. */
  outputType?: StableDiffusionOutputType;
  /** Called after each step with its index, timestep and the latents (do not dispose them). */
  onStep?: StepCallback;
  /** Cancels generation; the promise rejects with the signal's reason and every tensor is freed. */
  signal?: AbortSignal;
}

/** `generate`'s result; the caller disposes the tensors. */
export interface StableDiffusionOutput {
  /** With `outputType: 'tensor'`: images [B, H, W, 3] in [0, 1]. */
  images?: tf.Tensor4D;
  /** With `outputType: 'latent'`: the final latents [B, H / f, W / f, C] (not divided by `scaling_factor`). */
  latents?: tf.Tensor4D;
  /** With `outputType: 'png'`: one PNG file per image. */
  png?: Uint8Array[];
}

/** Options of the pipeline constructors. */
export interface StableDiffusionPipelineOptions {
  /** `resident` (default for hand-built pipelines) or `sequential` (only the running stage's weights on the backend). */
  residency?: Residency;
  /** Receives notes (scheduler config fixes). Default `console.warn`. */
  onWarning?: (message: string) => void;
}

/** The settings of one `generate` call after checking. */
export interface GenerateSettings {
  height: number;
  width: number;
  latentHeight: number;
  latentWidth: number;
  numInferenceSteps: number;
  guidanceScale: number;
  guidance: boolean;
  prompts: PromptBatch;
  /** Images in all: prompts x images per prompt. */
  batch: number;
  generator: Generator;
  /** Decode the VAE in tiles (chosen when the untiled decode would not fit). */
  vaeTiling: boolean;
}

type Stage = 'text' | 'unet' | 'vae';

/** The shared part of `StableDiffusionPipeline`, `StableDiffusionImg2ImgPipeline` and `StableDiffusionInpaintPipeline`. */
export abstract class StableDiffusionPipelineBase {
  readonly vae: AutoencoderKL;
  readonly unet: UNet2DConditionModel;
  readonly textEncoder?: PromptEncoder;
  readonly tokenizer?: PromptTokenizer;
  readonly tokenizerFiles?: TokenizerFiles;
  /** How the components share backend memory (see `StableDiffusionFromPretrainedOptions.residency`). */
  residency: Residency;
  /** The plan `fromPretrained` checked the folder against, when loaded from one. */
  memoryPlan?: MemoryPlan;
  /**
   * The scheduler; assign any scheduler to swap it (e.g. `DPMSolverMultistepScheduler.fromConfig(
   * pipeline.scheduler.toConfig())`). Assigned schedulers are kept as they are.
   */
  scheduler: Scheduler;
  private stage: Stage | undefined;

  /** Diffusers' pipeline class name, written to `model_index.json` by `save`. */
  abstract readonly pipelineClass: string;
  protected abstract readonly task: PipelineTask;

  /**
   * Builds a pipeline from loaded components, checking that they fit together (VAE latent
   * channels and UNet channels, text hidden size and cross-attention width). As Diffusers'
   * `__init__`, a scheduler given here with `steps_offset` != 1 or `clip_sample: true` is rebuilt
   * with `steps_offset: 1` and `clip_sample: false` (with a note).
   */
  constructor(components: StableDiffusionComponents, task: PipelineTask, className: string, options: StableDiffusionPipelineOptions = {}) {
    checkComponentShapes(shapesOf(components), task, className);
    this.vae = components.vae;
    this.unet = components.unet;
    this.textEncoder = components.textEncoder;
    this.tokenizer = components.tokenizer;
    this.tokenizerFiles = components.tokenizerFiles;
    this.scheduler = withDiffusersSchedulerFixes(components.scheduler, className, options.onWarning ?? console.warn);
    this.residency = options.residency ?? 'resident';
  }

  /** Loads a folder for `PipelineClass` (see `loadStableDiffusionFolder`). */
  protected static async loadPipeline<P extends StableDiffusionPipelineBase>(
    PipelineClass: new (components: StableDiffusionComponents, options?: StableDiffusionPipelineOptions) => P,
    task: PipelineTask,
    source: string | PretrainedSource,
    options: StableDiffusionFromPretrainedOptions,
    context: string,
  ): Promise<P> {
    const loaded = await loadStableDiffusionFolder(source, task, options, context);
    try {
      const pipeline = new PipelineClass(loaded.components, { residency: loaded.plan.residency, onWarning: options.onWarning });
      pipeline.memoryPlan = loaded.plan;
      return pipeline;
    } catch (error) {
      loaded.components.unet.dispose();
      loaded.components.vae.dispose();
      loaded.components.textEncoder?.dispose();
      throw error;
    }
  }

  /** The VAE's down-sampling factor (8 for Stable Diffusion). */
  get vaeScaleFactor(): number {
    return 2 ** (this.vae.config.blockOutChannels.length - 1);
  }

  /** The components, as the constructor takes them. */
  get components(): StableDiffusionComponents {
    const { vae, unet, scheduler, textEncoder, tokenizer, tokenizerFiles } = this;
    return { vae, unet, scheduler, textEncoder, tokenizer, tokenizerFiles };
  }

  /** Writes the pipeline as a Diffusers folder (`model_index.json` and each component's subfolder). Node only. */
  async save(folder: string): Promise<void> {
    await saveStableDiffusionFolder(folder, this.pipelineClass, this.components);
  }

  /** Frees every model's weights and the scheduler's state. */
  dispose(): void {
    this.unet.dispose();
    this.vae.dispose();
    this.textEncoder?.dispose();
    this.scheduler.dispose();
  }

  /**
   * Checks the options shared by every pipeline before anything runs (sizes multiples of 8 and of
   * the VAE factor, steps, guidance, prompts, memory at this size) and returns the settings.
   */
  protected async readSettings(options: StableDiffusionGenerateOptions, context: string): Promise<GenerateSettings> {
    const [defaultHeight, defaultWidth] = this.defaultSize();
    const height = options.height ?? defaultHeight;
    const width = options.width ?? defaultWidth;
    const multiple = Math.max(8, this.vaeScaleFactor);
    for (const [name, value] of [['height', height], ['width', width]] as const) {
      if (!Number.isInteger(value) || value < 1 || value % 8 !== 0 || value % this.vaeScaleFactor !== 0) {
        throw new RangeError(`${context}: ${name} must be a positive multiple of ${multiple}, got ${String(value)}`);
      }
    }
    const numInferenceSteps = options.numInferenceSteps ?? 50;
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw new RangeError(`${context}: numInferenceSteps must be a positive integer, got ${String(numInferenceSteps)}`);
    }
    const guidanceScale = options.guidanceScale ?? 7.5;
    if (!Number.isFinite(guidanceScale)) throw new RangeError(`${context}: guidanceScale must be a finite number, got ${String(guidanceScale)}`);
    const guidanceRescale = options.guidanceRescale ?? 0;
    if (!(guidanceRescale >= 0 && guidanceRescale <= 1)) throw new RangeError(`${context}: guidanceRescale must lie in [0, 1], got ${String(guidanceRescale)}`);
    if (options.eta !== undefined && !(Number.isFinite(options.eta) && options.eta >= 0)) throw new RangeError(`${context}: eta must be a number >= 0, got ${String(options.eta)}`);
    const outputType = options.outputType ?? 'tensor';
    if (!['tensor', 'png', 'latent'].includes(outputType)) throw new RangeError(`${context}: outputType must be 'tensor', 'png' or 'latent', got ${String(outputType)}`);
    const guidance = guidanceScale > 1 && this.unet.config.timeCondProjDim === null;
    const prompts = checkPromptOptions(options, this, this.crossAttentionDims(), context);
    const batch = prompts.batchSize * prompts.numImagesPerPrompt;
    const generator = options.generator ?? new Generator(options.seed ?? Math.floor(Math.random() * 2 ** 52));
    const latentHeight = height / this.vaeScaleFactor;
    const latentWidth = width / this.vaeScaleFactor;
    const vaeTiling = await this.checkMemory(batch, height, width, guidance, outputType === 'latent', context);
    return { height, width, latentHeight, latentWidth, numInferenceSteps, guidanceScale, guidance, prompts, batch, generator, vaeTiling };
  }

  /** The UNet's `sample_size` times the VAE factor. */
  private defaultSize(): [number, number] {
    const size = this.unet.config.sampleSize;
    if (size === null) return [512, 512];
    const [height, width] = typeof size === 'number' ? [size, size] : [size[0], size[1]];
    return [height * this.vaeScaleFactor, width * this.vaeScaleFactor];
  }

  private crossAttentionDims(): number[] {
    const dim = this.unet.config.crossAttentionDim;
    return [...new Set(typeof dim === 'number' ? [dim] : dim)];
  }

  /**
   * Checks the stages at this size against the backend; returns whether the VAE must decode in
   * tiles (when the untiled decode would not fit but tiles do). Throws a `MemoryPlanError` naming
   * the stage otherwise, before anything runs.
   */
  private async checkMemory(batch: number, height: number, width: number, guidance: boolean, latentOnly: boolean, context: string): Promise<boolean> {
    const limit = await backendMemoryLimit(tf.getBackend());
    const configs = { unet: this.unet.toConfig(), vae: this.vae.toConfig() };
    const estimates = stageEstimates(configs, batch, height, width, guidance);
    const rows = (vaeBytes: number): MemoryPlanRow[] => [
      this.row('unet', this.unet.trainableVariables(), estimates.unet),
      this.row('vae', this.vae.trainableVariables(), latentOnly ? 0 : vaeBytes),
      ...(this.textEncoder ? [this.row('text_encoder', this.textEncoder.trainableVariables(), estimates.text)] : []),
    ];
    const what = `${context} at ${height}x${width} (${batch} image${batch === 1 ? '' : 's'}${guidance ? ', doubled for guidance' : ''})`;
    try {
      planMemory(rows(estimates.vae), limit, this.residency, what);
      return false;
    } catch (error) {
      if (!(error instanceof MemoryPlanError) || error.component !== 'vae') throw error;
      const tile = this.vae.tileSampleMinSize;
      const tiled = stageEstimates(configs, 1, Math.min(height, tile), Math.min(width, tile), false).vae;
      try {
        planMemory(rows(tiled), limit, this.residency, what);
      } catch {
        throw error;
      }
      return true;
    }
  }

  private row(component: string, variables: tf.Variable[], activationBytes: number): MemoryPlanRow {
    let weightBytes = 0;
    let largestTensorBytes = 0;
    for (const variable of variables) {
      weightBytes += 4 * variable.size;
      largestTensorBytes = Math.max(largestTensorBytes, 4 * variable.size);
    }
    return { component, weightBytes, largestTensorBytes, activationBytes };
  }

  /**
   * Makes `stage`'s model the resident one: with `residency: 'sequential'` the other models'
   * weights move to host memory (they come back on their next use).
   */
  protected async enterStage(stage: Stage): Promise<void> {
    if (this.residency !== 'sequential' || this.stage === stage) return;
    this.stage = stage;
    const others = { text: [this.unet, this.vae], unet: [this.textEncoder, this.vae], vae: [this.textEncoder, this.unet] }[stage];
    await moveToHostMemory(others.flatMap((model) => model?.trainableVariables() ?? []));
  }

  /** The text states of this call (`[negative; positive]` with guidance); the caller disposes them. */
  protected async encodePromptStates(options: PromptOptions, settings: GenerateSettings, context: string): Promise<tf.Tensor3D> {
    if (options.promptEmbeds === undefined) await this.enterStage('text');
    return encodePrompt(this, options, settings.prompts, settings.guidance, context);
  }

  /** Start noise [B, h, w, C] from the generator, or the given `latents` (checked), times `initNoiseSigma`. */
  protected startLatents(latents: tf.Tensor4D | undefined, settings: GenerateSettings, context: string): tf.Tensor4D {
    const shape: [number, number, number, number] = [settings.batch, settings.latentHeight, settings.latentWidth, this.vae.config.latentChannels];
    const sigma = this.scheduler.initNoiseSigma;
    return tf.tidy(() => {
      const noise = latents === undefined ? (randn(shape, settings.generator) as tf.Tensor4D) : latents;
      return tf.mul(noise, sigma) as tf.Tensor4D;
    });
  }

  /** Throws unless `latents` is [B, h, w, C] for this call. */
  protected checkLatents(latents: tf.Tensor4D | undefined, settings: GenerateSettings, context: string, name = 'latents'): void {
    if (latents === undefined) return;
    const expected = [settings.batch, settings.latentHeight, settings.latentWidth, this.vae.config.latentChannels];
    if (!(latents instanceof tf.Tensor) || latents.shape.join() !== expected.join()) {
      const got = latents instanceof tf.Tensor ? `[${latents.shape.join(', ')}]` : typeof latents;
      throw new RangeError(`${context}: ${name} must be [${expected.join(', ')}] (NHWC: ${settings.batch} images of ${settings.height}x${settings.width}), got ${got}`);
    }
  }

  /** The VAE's latents of `images` ([-1, 1]), sampled from the posterior with the generator, times `scaling_factor`. */
  protected async encodeImages(images: tf.Tensor4D, generator: Generator): Promise<tf.Tensor4D> {
    await this.enterStage('vae');
    const posterior = this.vae.encode(images);
    try {
      return tf.tidy(() => tf.mul(tf.sub(posterior.sample(generator), this.vae.shiftFactor), this.vae.scalingFactor) as tf.Tensor4D);
    } finally {
      posterior.dispose();
    }
  }

  /** Final latents to the requested output (they are disposed here unless returned). */
  protected async finish(latents: tf.Tensor4D, outputType: StableDiffusionOutputType, settings: GenerateSettings): Promise<StableDiffusionOutput> {
    if (outputType === 'latent') return { latents };
    let images: tf.Tensor4D;
    try {
      await this.enterStage('vae');
      images = tf.tidy(() => {
        const unscaled = tf.add(tf.div(latents, this.vae.scalingFactor), this.vae.shiftFactor) as tf.Tensor4D;
        return denormalizeImage(this.vae.decode(unscaled, settings.vaeTiling ? { tiling: true } : {}));
      });
    } finally {
      latents.dispose();
    }
    if (outputType === 'tensor') return { images };
    try {
      return { png: await imagesToPng(images) };
    } finally {
      images.dispose();
    }
  }

  /**
   * One denoising step in `tf.tidy`: `compute` returns the next latents from the current ones,
   * which are then freed (also when `compute` throws).
   */
  protected static advance(latents: tf.Tensor4D, compute: (latents: tf.Tensor4D) => tf.Tensor4D): tf.Tensor4D {
    try {
      return tf.tidy(() => compute(latents));
    } finally {
      latents.dispose();
    }
  }

  /**
   * Runs a denoising loop that keeps its current latents in `state.latents` (starting from
   * `start`) and returns the last; if the loop throws (an abort included) the current latents and
   * the scheduler's state are freed.
   */
  protected async denoise(start: tf.Tensor4D, loop: (state: { latents: tf.Tensor4D }) => Promise<void>): Promise<tf.Tensor4D> {
    const state = { latents: start };
    try {
      await loop(state);
      return state.latents;
    } catch (error) {
      if (!state.latents.isDisposed) state.latents.dispose();
      this.scheduler.dispose();
      throw error;
    }
  }
}

/**
 * Diffusers' pipeline `__init__` fixes for old scheduler configs: `steps_offset` becomes 1 and a
 * `clip_sample: true` becomes false (each with a note). Schedulers without these options are kept.
 */
export function withDiffusersSchedulerFixes(scheduler: Scheduler, className: string, onWarning: (message: string) => void): Scheduler {
  const config = scheduler.config as { stepsOffset?: number; clipSample?: boolean };
  const fixes: Record<string, number | boolean> = {};
  if (config.stepsOffset !== undefined && config.stepsOffset !== 1) fixes.steps_offset = 1;
  if (config.clipSample === true) fixes.clip_sample = false;
  if (Object.keys(fixes).length === 0) return scheduler;
  onWarning(
    `${className}: the ${scheduler.className} config has ${Object.keys(fixes)
      .map((key) => `${key} ${key === 'steps_offset' ? String(config.stepsOffset) : 'true'}`)
      .join(' and ')}; using ${Object.entries(fixes)
      .map(([key, value]) => `${key} ${String(value)}`)
      .join(' and ')} as Diffusers' pipelines do (assign the scheduler after construction to keep it as is)`,
  );
  const fixed = schedulerFromConfig({ ...scheduler.toConfig(), ...fixes }, scheduler.className);
  scheduler.dispose();
  return fixed;
}
