/**
 * What the Stable Diffusion pipelines share, on `DiffusionPipeline`: the components and their
 * checks, Diffusers' scheduler config fixes at construction, `fromPretrained` with the memory plan
 * made before any weights are read, the common `generate` options, prompt encoding, memory
 * residency per stage, and decoding to the requested output. Each pipeline's `generate` holds its
 * own loop.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Generator, memoryCapacity, moveToHostMemory, randn, type PretrainedSource } from '@diffusion-ts/core';
import type { AutoencoderKL, UNet2DConditionModel } from '@diffusion-ts/models';
import { schedulerFromConfig, type Scheduler } from '@diffusion-ts/schedulers';
import type { ComponentLoaders } from '../pipelines/component-loader.js';
import { runDenoisingLoop, type DenoiseStep } from '../pipelines/denoise-loop.js';
import { COMPONENT_LOADERS } from '../pipelines/component-registry.js';
import { DiffusionPipeline, folderRequest, type FromPretrainedOptionsOf, type PipelineClass } from '../pipelines/diffusion-pipeline.js';
import type { StepCallback } from '../pipelines/generate-options.js';
import { loadPlannedComponents, planComponents, type ComponentSpecs } from '../pipelines/pipeline-folder.js';
import { SCHEDULER_COMPONENT } from '../pipelines/scheduler-component.js';
import { checkComponentShapes, shapesOf, type PipelineTask, type PromptEncoder, type StableDiffusionComponents } from './components.js';
import { checkPromptOptions, encodePrompt, type PromptBatch, type PromptOptions } from './encode-prompt.js';
import { capMemoryLimit, MemoryPlanError, planMemory, type MemoryPlan, type MemoryPlanRow, type Residency } from './memory-plan.js';
import { TOKENIZER_LOADERS, type PromptTokenizer } from './prompt-tokenizer.js';
import { denormalizeImage, imagesToPng } from './sd-images.js';
import { planStableDiffusionFolder, stageEstimates } from './stable-diffusion-plan.js';

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
  /** Guidance rescale r in [0, 1] (default 0; Diffusers has it for text-to-image only, here every pipeline takes it). */
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

/** Options of the Stable Diffusion pipelines' `fromPretrained`. */
export interface StableDiffusionFromPretrainedOptions {
  /** Plan for at most this many bytes (below the backend's own limit), e.g. what a browser tab may take. */
  memoryLimit?: number;
  /**
   * `resident` keeps every component on the backend; `sequential` only the running stage's weights
   * (the others wait in host memory); `auto` (default) picks `resident` when the plan fits, else
   * `sequential`, else refuses before any weights are read.
   */
  residency?: Residency | 'auto';
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
  /** Decode the VAE in tiles (chosen when the untiled decode would not fit but tiles do). */
  vaeTiling: boolean;
}

type Stage = 'text' | 'unet' | 'vae';

/** The shared part of `StableDiffusionPipeline`, `StableDiffusionImg2ImgPipeline` and `StableDiffusionInpaintPipeline`. */
export abstract class StableDiffusionPipelineBase extends DiffusionPipeline<StableDiffusionComponents> {
  static override readonly expectedComponents: ComponentSpecs = {
    scheduler: SCHEDULER_COMPONENT,
    text_encoder: { classes: ['CLIPTextModel', 'CLIPTextModelWithProjection'], optional: true },
    tokenizer: { classes: ['CLIPTokenizer', 'CLIPTokenizerFast'], optional: true },
    unet: { classes: ['UNet2DConditionModel'] },
    vae: { classes: ['AutoencoderKL'] },
  };
  static override readonly componentLoaders: ComponentLoaders = Object.freeze({ ...COMPONENT_LOADERS, ...TOKENIZER_LOADERS });
  /** The task of the pipeline class: it decides the UNet input channels allowed. */
  static readonly task: PipelineTask = 'text-to-image';

  declare readonly vae: AutoencoderKL;
  declare readonly unet: UNet2DConditionModel;
  declare readonly textEncoder?: PromptEncoder;
  declare readonly tokenizer?: PromptTokenizer & { readonly className?: string };
  /**
   * The scheduler; assign any scheduler to swap it (e.g. `DPMSolverMultistepScheduler.fromConfig(
   * pipeline.scheduler.toConfig())`). Assigned schedulers are kept as they are.
   */
  declare scheduler: Scheduler;
  /** The plan `fromPretrained` checked the folder against, when loaded from one. */
  declare readonly memoryPlan?: MemoryPlan;
  /** A cap on the memory the pipeline may plan for, in bytes, below the backend's own limit (see `StableDiffusionComponents.memoryLimit`). */
  declare readonly memoryLimit?: number;
  /** How the components share backend memory (see `StableDiffusionComponents.residency`). */
  residency: Residency;
  private stage: Stage | undefined;

  /**
   * Builds a pipeline from loaded components, checking that they fit together (VAE latent
   * channels and UNet channels, text hidden size and cross-attention width). As Diffusers'
   * `__init__`, a scheduler given here with `steps_offset` != 1 or `clip_sample: true` is rebuilt
   * with `steps_offset: 1` and `clip_sample: false` (with a note).
   */
  constructor(components: StableDiffusionComponents) {
    super(components);
    const { task } = this.constructor as typeof StableDiffusionPipelineBase;
    checkComponentShapes(shapesOf(this), task, this.diffusersClassName);
    this.scheduler = withDiffusersSchedulerFixes(this.scheduler, this.diffusersClassName, components.onWarning ?? console.warn);
    this.residency = components.residency ?? 'resident';
  }

  /**
   * Loads a Diffusers folder (local path or http(s) URL): checks `model_index.json` (a missing or
   * unknown component is named), reads every component's config and counts its weights from the
   * safetensors headers, checks that the components fit together and that the pipeline fits the
   * backend (a `MemoryPlanError` naming the component, its size and the backend), and only then
   * loads the weights (`variant: 'fp16'` reads the fp16 files, widened to float32).
   */
  static override async fromPretrained<Pipeline, PipelineComponents>(
    this: PipelineClass<Pipeline, PipelineComponents>,
    source: string | PretrainedSource,
    options?: FromPretrainedOptionsOf<PipelineComponents> & StableDiffusionFromPretrainedOptions,
  ): Promise<Pipeline> {
    const { residency, memoryLimit, ...rest } = options ?? ({} as StableDiffusionFromPretrainedOptions);
    // The load limits go to every file read, the headers of the memory plan included.
    const { root, request, given } = folderRequest(this, source, rest as FromPretrainedOptionsOf<PipelineComponents>);
    const context = `${this.name}.fromPretrained`;
    const planned = await planComponents(root, request);
    const names = new Set(planned.map((component) => component.name));
    let memoryPlan: MemoryPlan | undefined;
    if (names.has('unet') && names.has('vae')) {
      const { task } = this as unknown as typeof StableDiffusionPipelineBase;
      const variant = request.variant;
      memoryPlan = await planStableDiffusionFolder(
        root,
        task,
        { variant, residency, memoryLimit, textEncoder: names.has('text_encoder') },
        context,
      );
    }
    const chosen: Residency = memoryPlan?.residency ?? (residency === 'sequential' ? 'sequential' : 'resident');
    const loaded = await loadPlannedComponents(root, request, planned);
    return new this({ ...given, ...loaded, residency: chosen, memoryPlan, memoryLimit } as PipelineComponents);
  }

  /**
   * A pipeline of this class on the components of `other` (shared, not copied: disposing either
   * frees them), as Diffusers' `StableDiffusionImg2ImgPipeline(**pipe.components)`.
   */
  static fromPipeline<Pipeline>(
    this: new (components: StableDiffusionComponents) => Pipeline,
    other: StableDiffusionPipelineBase,
  ): Pipeline {
    const { vae, unet, scheduler, textEncoder, tokenizer, residency } = other;
    return new this({ vae, unet, scheduler, textEncoder, tokenizer, residency });
  }

  /** The VAE's down-sampling factor (8 for Stable Diffusion). */
  get vaeScaleFactor(): number {
    return 2 ** (this.vae.config.blockOutChannels.length - 1);
  }

  /**
   * Checks the options shared by every pipeline before anything runs (sizes multiples of 8 and of
   * the VAE factor, steps, guidance, prompts, memory at this size) and returns the settings.
   */
  protected readSettings(options: StableDiffusionGenerateOptions, context: string): GenerateSettings {
    const [defaultHeight, defaultWidth] = this.defaultSize();
    const height = options.height ?? defaultHeight;
    const width = options.width ?? defaultWidth;
    const multiple = Math.max(8, this.vaeScaleFactor);
    for (const [name, value] of [
      ['height', height],
      ['width', width],
    ] as const) {
      if (!Number.isInteger(value) || value < 1 || value % 8 !== 0 || value % this.vaeScaleFactor !== 0) {
        throw new RangeError(`${context}: ${name} must be a positive multiple of ${multiple}, got ${String(value)}`);
      }
    }
    const numInferenceSteps = options.numInferenceSteps ?? 50;
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw new RangeError(`${context}: numInferenceSteps must be a positive integer, got ${String(numInferenceSteps)}`);
    }
    const trainSteps = this.scheduler.config.numTrainTimesteps;
    if (numInferenceSteps > trainSteps)
      throw new RangeError(`${context}: numInferenceSteps ${numInferenceSteps} exceeds the scheduler's ${trainSteps} training timesteps`);
    const guidanceScale = options.guidanceScale ?? 7.5;
    if (!Number.isFinite(guidanceScale))
      throw new RangeError(`${context}: guidanceScale must be a finite number, got ${String(guidanceScale)}`);
    const guidanceRescale = options.guidanceRescale ?? 0;
    if (!(guidanceRescale >= 0 && guidanceRescale <= 1))
      throw new RangeError(`${context}: guidanceRescale must lie in [0, 1], got ${String(guidanceRescale)}`);
    if (options.eta !== undefined && !(Number.isFinite(options.eta) && options.eta >= 0))
      throw new RangeError(`${context}: eta must be a number >= 0, got ${String(options.eta)}`);
    const outputType = options.outputType ?? 'tensor';
    if (!['tensor', 'png', 'latent'].includes(outputType))
      throw new RangeError(`${context}: outputType must be 'tensor', 'png' or 'latent', got ${String(outputType)}`);
    const guidance = guidanceScale > 1 && this.unet.config.timeCondProjDim === null;
    const prompts = checkPromptOptions(options, this, this.crossAttentionDims(), context);
    const batch = prompts.batchSize * prompts.numImagesPerPrompt;
    const generator = options.generator ?? new Generator(options.seed ?? Math.floor(Math.random() * 2 ** 52));
    const latentHeight = height / this.vaeScaleFactor;
    const latentWidth = width / this.vaeScaleFactor;
    const vaeTiling = this.checkMemory(batch, height, width, guidance, outputType === 'latent', context);
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
  private checkMemory(batch: number, height: number, width: number, guidance: boolean, latentOnly: boolean, context: string): boolean {
    const limit = capMemoryLimit(memoryCapacity(), this.memoryLimit);
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
      // Where the untiled decode is what does not fit, decode in tiles if they fit.
      const decodeIsLargest = estimates.vae >= Math.max(estimates.unet, estimates.text);
      if (
        !(error instanceof MemoryPlanError) ||
        latentOnly ||
        !(error.component === 'vae' || (error.component === 'all' && decodeIsLargest))
      )
        throw error;
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
  protected startLatents(latents: tf.Tensor4D | undefined, settings: GenerateSettings): tf.Tensor4D {
    const shape: [number, number, number, number] = [
      settings.batch,
      settings.latentHeight,
      settings.latentWidth,
      this.vae.config.latentChannels,
    ];
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
      throw new RangeError(
        `${context}: ${name} must be [${expected.join(', ')}] (NHWC: ${settings.batch} images of ${settings.height}x${settings.width}), got ${got}`,
      );
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

  /**
   * The denoising loop of `generate` (see `runDenoisingLoop`: `step` runs in `tf.tidy` for each
   * timestep, with progress and abort), after which the scheduler's step history is freed.
   */
  protected async denoise(
    start: tf.Tensor4D,
    timesteps: readonly number[],
    options: Pick<StableDiffusionGenerateOptions, 'onStep' | 'signal'>,
    step: DenoiseStep,
  ): Promise<tf.Tensor4D> {
    try {
      return await runDenoisingLoop(start, timesteps, this.loopControl(options), step);
    } finally {
      this.scheduler.dispose();
    }
  }

  /**
   * The loop's progress and abort control: `onStep` after each step, preceded by a turn of the event
   * loop (so that timers, I/O and the UI run between long steps, and an abort can arrive).
   */
  private loopControl(
    options: Pick<StableDiffusionGenerateOptions, 'onStep' | 'signal'>,
  ): Pick<StableDiffusionGenerateOptions, 'onStep' | 'signal'> {
    const { onStep, signal } = options;
    return {
      signal,
      onStep: async (index, timestep, latents) => {
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
        await onStep?.(index, timestep, latents);
      },
    };
  }

  /** Final latents to the requested output (they are disposed here unless returned). */
  protected async finish(
    latents: tf.Tensor4D,
    outputType: StableDiffusionOutputType,
    settings: GenerateSettings,
  ): Promise<StableDiffusionOutput> {
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
