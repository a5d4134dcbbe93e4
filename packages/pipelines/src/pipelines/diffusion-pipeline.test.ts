import * as tf from '@tensorflow/tfjs-core';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator, initBackend, type PretrainedSource } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { AutoencoderKL, CLIPTextModel, CLIPTextModelWithProjection, UNet2DConditionModel, UNet2DModel } from '@diffusion-ts/models';
import { TINY_CLASS_UNET, TINY_CONDITION_UNET, TINY_UNET } from '@diffusion-ts/models/testing';
import { DDIMScheduler, DDPMScheduler, type Scheduler } from '@diffusion-ts/schedulers';
import { ClassConditionalPipeline } from './class-conditional.js';
import type { ComponentLoader } from './component-loader.js';
import { COMPONENT_LOADERS } from './component-registry.js';
import { ConditionedPipeline } from './conditioned.js';
import { DiffusionPipeline } from './diffusion-pipeline.js';
import { Img2ImgPipeline } from './img2img.js';
import type { ComponentSpecs } from './pipeline-folder.js';
import { SCHEDULER_COMPONENT } from './scheduler-component.js';
import { UnconditionalPipeline } from './unconditional.js';

/** A component from another package (as a tokenizer would be): a vocabulary file in its subfolder. */
class TestTokenizer {
  readonly className = 'TestTokenizer';
  constructor(readonly vocabulary: string[]) {}
}

const TOKENIZER_LOADER: ComponentLoader<TestTokenizer> = {
  library: 'transformers',
  load: async (source: PretrainedSource) => new TestTokenizer(JSON.parse(await source.readText('vocab.json')) as string[]),
  save: async (tokenizer, folder) => {
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'vocab.json'), JSON.stringify(tokenizer.vocabulary));
  },
};

interface TextComponents {
  tokenizer: TestTokenizer;
  unet: UNet2DConditionModel;
  scheduler: Scheduler;
  safetyChecker?: undefined;
}

/** A text-to-image-shaped pipeline: a tokenizer from another package, a UNet, a scheduler, an optional component. */
class TestTextPipeline extends DiffusionPipeline<TextComponents> {
  static override readonly expectedComponents: ComponentSpecs = {
    safety_checker: { optional: true },
    scheduler: SCHEDULER_COMPONENT,
    tokenizer: { classes: ['TestTokenizer'] },
    unet: { classes: ['UNet2DConditionModel'] },
  };
  static override readonly componentLoaders = { ...COMPONENT_LOADERS, TestTokenizer: TOKENIZER_LOADER };
  declare readonly tokenizer: TestTokenizer;
  declare readonly unet: UNet2DConditionModel;
  declare scheduler: Scheduler;

  protected override get diffusersClassName(): string {
    return 'StableDiffusionPipeline';
  }
}

interface LatentComponents {
  vae: AutoencoderKL;
  textEncoder: CLIPTextModel;
  textEncoder2: CLIPTextModelWithProjection;
  tokenizer: TestTokenizer;
  unet: UNet2DConditionModel;
  scheduler: Scheduler;
}

/** A latent text-to-image-shaped pipeline: the VAE and both CLIP text encoders come from the built-in loaders. */
class TestLatentPipeline extends DiffusionPipeline<LatentComponents> {
  static override readonly expectedComponents: ComponentSpecs = {
    scheduler: SCHEDULER_COMPONENT,
    text_encoder: { classes: ['CLIPTextModel'] },
    text_encoder_2: { classes: ['CLIPTextModelWithProjection'] },
    tokenizer: { classes: ['TestTokenizer'] },
    unet: { classes: ['UNet2DConditionModel'] },
    vae: { classes: ['AutoencoderKL'] },
  };
  static override readonly componentLoaders = { ...COMPONENT_LOADERS, TestTokenizer: TOKENIZER_LOADER };
  declare readonly vae: AutoencoderKL;
  declare readonly textEncoder: CLIPTextModel;
  declare readonly textEncoder2: CLIPTextModelWithProjection;

  protected override get diffusersClassName(): string {
    return 'StableDiffusionXLPipeline';
  }
}

const TINY_CLIP = {
  hiddenSize: 8,
  intermediateSize: 16,
  numHiddenLayers: 1,
  numAttentionHeads: 2,
  vocabSize: 50,
  maxPositionEmbeddings: 7,
  projectionDim: 4,
};

describe.each(testBackendNames())('DiffusionPipeline on %s', (backend) => {
  let folder: string;
  let unet: UNet2DModel;
  let conditionUnet: UNet2DConditionModel;
  beforeAll(async () => {
    await initBackend(backend);
    folder = await mkdtemp(join(tmpdir(), 'diffusion-pipeline-'));
    unet = UNet2DModel.fromConfig(TINY_UNET, { seed: 1 });
    conditionUnet = UNet2DConditionModel.fromConfig(TINY_CONDITION_UNET, { seed: 1 });
  });
  afterAll(async () => {
    unet.dispose();
    conditionUnet.dispose();
    await rm(folder, { recursive: true, force: true });
  });

  it("writes Diffusers' model_index.json and loads every pipeline back, with constructor options passed through", async () => {
    const classUnet = UNet2DModel.fromConfig(TINY_CLASS_UNET, { seed: 2 });
    const classFolder = join(folder, `class-${backend}`);
    await new ClassConditionalPipeline({ unet: classUnet, scheduler: new DDIMScheduler() }).save(classFolder);
    expect(JSON.parse(await readFile(join(classFolder, 'model_index.json'), 'utf8'))).toEqual({
      _class_name: 'DDPMPipeline',
      _diffusers_version: expect.any(String) as string,
      scheduler: ['diffusers', 'DDIMScheduler'],
      unet: ['diffusers', 'UNet2DModel'],
    });
    const loaded = await ClassConditionalPipeline.fromPretrained(classFolder, { nullClass: 1 });
    expect(loaded.nullClass).toBe(1);
    expect(loaded.scheduler.className).toBe('DDIMScheduler');
    expect(Object.keys(loaded.components)).toEqual(['scheduler', 'unet']);
    const options = { classLabels: [0, 2], numInferenceSteps: 2, guidanceScale: 2 };
    const expected = await new ClassConditionalPipeline({ unet: classUnet, scheduler: new DDIMScheduler(), nullClass: 1 }).generate({
      ...options,
      generator: new Generator(1),
    });
    const actual = await loaded.generate({ ...options, generator: new Generator(1) });
    expect(Array.from(await actual.images.data())).toEqual(Array.from(await expected.images.data()));
    tf.dispose([expected.images, actual.images]);
    loaded.dispose();
    classUnet.dispose();

    const conditionedFolder = join(folder, `conditioned-${backend}`);
    await new ConditionedPipeline({ unet: conditionUnet, scheduler: new DDPMScheduler() }).save(conditionedFolder);
    const conditioned = await ConditionedPipeline.fromPretrained(conditionedFolder);
    expect(conditioned.unet.className).toBe('UNet2DConditionModel');
    conditioned.dispose();

    const imageFolder = join(folder, `img2img-${backend}`);
    await new Img2ImgPipeline({ unet, scheduler: new DDIMScheduler() }).save(imageFolder);
    const img2img = await Img2ImgPipeline.fromPretrained(imageFolder);
    expect(img2img.timestepsFor(10, 0.3)).toEqual([200, 100, 0]);
    img2img.dispose();
  });

  it('uses given components instead of loading them, and frees every loaded one on dispose', async () => {
    const target = join(folder, `given-${backend}`);
    await new UnconditionalPipeline({ unet, scheduler: new DDPMScheduler() }).save(target);
    await rm(join(target, 'unet'), { recursive: true });
    const before = tf.memory().numTensors;
    const pipeline = await UnconditionalPipeline.fromPretrained(target, { unet });
    expect(pipeline.unet).toBe(unet);
    expect(pipeline.scheduler.className).toBe('DDPMScheduler');
    await expect(UnconditionalPipeline.fromPretrained(target)).rejects.toThrow(/unet.*config\.json/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names a wrong, unknown or malformed component class before loading any weights', async () => {
    const target = join(folder, `classes-${backend}`);
    await new ConditionedPipeline({ unet: conditionUnet, scheduler: new DDIMScheduler() }).save(target);
    await expect(UnconditionalPipeline.fromPretrained(target)).rejects.toThrow(
      "UnconditionalPipeline: component 'unet' is a UNet2DConditionModel, expected UNet2DModel",
    );
    const index = JSON.parse(await readFile(join(target, 'model_index.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(target, 'model_index.json'), JSON.stringify({ ...index, unet: ['diffusers', 'UNet3DModel'] }));
    await expect(TestTextPipeline.fromPretrained(target, { tokenizer: new TestTokenizer([]) })).rejects.toThrow(/'unet' is a UNet3DModel/);
    await writeFile(join(target, 'model_index.json'), JSON.stringify({ ...index, scheduler: ['diffusers', 'KarrasVeScheduler'] }));
    await expect(ConditionedPipeline.fromPretrained(target)).rejects.toThrow(
      /'scheduler' is a KarrasVeScheduler, expected DDPMScheduler or DDIMScheduler or PNDMScheduler or EulerDiscreteScheduler/,
    );
    await writeFile(join(target, 'model_index.json'), JSON.stringify({ ...index, unet: 'UNet2DConditionModel' }));
    await expect(ConditionedPipeline.fromPretrained(target)).rejects.toThrow(/component 'unet' must be \[library, class\]/);
  });

  it("loads and saves the VAE and the CLIP text encoders through the built-in loaders, in their libraries' layouts", async () => {
    const target = join(folder, `latent-${backend}`);
    const components = {
      vae: AutoencoderKL.fromConfig(
        {
          blockOutChannels: [8, 8],
          downBlockTypes: ['DownEncoderBlock2D', 'DownEncoderBlock2D'],
          upBlockTypes: ['UpDecoderBlock2D', 'UpDecoderBlock2D'],
          normNumGroups: 4,
          sampleSize: 8,
        },
        { seed: 4 },
      ),
      textEncoder: CLIPTextModel.fromConfig(TINY_CLIP, { seed: 5 }),
      textEncoder2: CLIPTextModelWithProjection.fromConfig(TINY_CLIP, { seed: 6 }),
      tokenizer: new TestTokenizer(['a']),
      unet: conditionUnet,
      scheduler: new DDIMScheduler(),
    };
    await new TestLatentPipeline(components).save(target);
    const index = JSON.parse(await readFile(join(target, 'model_index.json'), 'utf8')) as Record<string, unknown>;
    expect(index).toMatchObject({
      text_encoder: ['transformers', 'CLIPTextModel'],
      text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
      vae: ['diffusers', 'AutoencoderKL'],
    });
    expect((await readdir(join(target, 'text_encoder'))).sort()).toEqual(['config.json', 'model.safetensors']);
    expect((await readdir(join(target, 'vae'))).sort()).toEqual(['config.json', 'diffusion_pytorch_model.safetensors']);

    const before = tf.memory().numTensors;
    const loaded = await TestLatentPipeline.fromPretrained(target);
    expect(loaded.vae).toBeInstanceOf(AutoencoderKL);
    expect(loaded.textEncoder).toBeInstanceOf(CLIPTextModel);
    expect(loaded.textEncoder2).toBeInstanceOf(CLIPTextModelWithProjection);
    for (const name of ['vae', 'textEncoder', 'textEncoder2'] as const) {
      expect(await loaded[name].exportWeights(), name).toEqual(await components[name].exportWeights());
    }
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (const name of ['vae', 'textEncoder', 'textEncoder2'] as const) components[name].dispose();
  });

  it('loads and saves components of other packages through extra loaders, optional components as [null, null]', async () => {
    const target = join(folder, `text-${backend}`);
    const tokenizer = new TestTokenizer(['a', 'photo']);
    const pipeline = new TestTextPipeline({ tokenizer, unet: conditionUnet, scheduler: new DDIMScheduler() });
    await pipeline.save(target);
    expect(JSON.parse(await readFile(join(target, 'model_index.json'), 'utf8'))).toEqual({
      _class_name: 'StableDiffusionPipeline',
      _diffusers_version: expect.any(String) as string,
      safety_checker: [null, null],
      scheduler: ['diffusers', 'DDIMScheduler'],
      tokenizer: ['transformers', 'TestTokenizer'],
      unet: ['diffusers', 'UNet2DConditionModel'],
    });
    const before = tf.memory().numTensors;
    const loaded = await TestTextPipeline.fromPretrained(target);
    expect(loaded.tokenizer.vocabulary).toEqual(['a', 'photo']);
    expect(loaded.components.safety_checker).toBeUndefined();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);

    // A component that fails to load: the ones loaded before it (sorted order: the UNet) are freed.
    const index = JSON.parse(await readFile(join(target, 'model_index.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(target, 'model_index.json'), JSON.stringify({ ...index, vae: ['diffusers', 'TestVae'] }));
    class WithVaePipeline extends TestTextPipeline {
      static override readonly expectedComponents = { ...TestTextPipeline.expectedComponents, vae: { classes: ['TestVae'] } };
    }
    const failing: ComponentLoader = {
      library: 'diffusers',
      load: () => Promise.reject(new Error('vae weights are corrupt')),
      save: () => Promise.resolve(),
    };
    await expect(WithVaePipeline.fromPretrained(target, { loaders: { TestVae: failing } })).rejects.toThrow('vae weights are corrupt');
    expect(tf.memory().numTensors).toBe(before);
    // A class no loader knows is named with the component.
    await expect(WithVaePipeline.fromPretrained(target)).rejects.toThrow(/unknown component class 'TestVae' for 'vae'/);
  });
});
