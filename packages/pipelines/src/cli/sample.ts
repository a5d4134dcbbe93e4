/** `diffusion-ts sample`: samples a PNG grid from a Diffusers pipeline folder. */
import { resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { Generator, openPretrained } from '@diffusion-ts/core';
import { SCHEDULER_NAMES } from '@diffusion-ts/schedulers';
import { saveImageGrid } from '../images.js';
import { ClassConditionalPipeline, DEFAULT_CLASS_GUIDANCE } from '../pipelines/class-conditional.js';
import {
  BACKEND_AND_THREADS_OPTIONS,
  SEED_OPTION,
  integerOption,
  loadCommandPipeline,
  modelFolder,
  numberOption,
  parseCommandArgs,
  schedulerOption,
  seedOption,
  UsageError,
  type Command,
} from './arguments.js';
import { sampleStableDiffusion } from './sample-stable-diffusion.js';

/** The short scheduler names, wrapped into the option column of the usage text. */
function schedulerList(): string {
  const lines: string[] = [];
  for (const name of Object.keys(SCHEDULER_NAMES)) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + name.length < 64) lines[last] += `, ${name}`;
    else lines.push(name);
  }
  return lines.map((line, i) => `${' '.repeat(23)}${line}${i < lines.length - 1 ? ',' : ''}`).join('\n');
}

const USAGE = `Usage: diffusion-ts sample [model-folder] [options]

Samples images from a pipeline folder in Diffusers' layout (model_index.json, unet/,
scheduler/) and writes them as one PNG (a grid for several images). The folder defaults to the
shipped models/mnist-ddpm. A folder whose UNet has a class embedding (models/mnist-class-ddpm)
samples the classes asked for with classifier-free guidance. A Stable Diffusion folder
(model_index.json's _class_name StableDiffusion*) runs text-to-image, or img2img with
--init-image, or inpainting with --mask.

Options:
  --scheduler <name>   the sampler (default: ddim for unconditional folders, the folder's own for
                       Stable Diffusion), loaded with the folder's scheduler config:
${schedulerList()}
                       or a Diffusers class name (DDIMScheduler, …)
  --steps <n>          denoising steps (default 25; 30 for Stable Diffusion; DDPM is trained with 1000)
  --seed <n>           seed of the start noise (default 0)
  --count <n>          number of images (default 16; 1 for Stable Diffusion)
  --eta <x>            DDIM's eta (default 0)
  --output <file>      PNG to write (default samples.png)
  --scale <n>          enlarge the grid by this integer factor (default 2; not for Stable Diffusion)

Class-conditional folders:
  --class <id>         the class of every image, e.g. a digit (default: the classes in turn)
  --guidance <x>       classifier-free guidance scale (default ${DEFAULT_CLASS_GUIDANCE}; 1 = no guidance)

Stable Diffusion folders:
  --prompt <text>           what to draw (required)
  --negative-prompt <text>  what to avoid
  --guidance <x>            classifier-free guidance scale (default 7.5)
  --height <px>, --width <px>  image size, multiples of 8 (default: the UNet's sample_size x 8,
                            or the --init-image size)
  --init-image <png|jpg>    img2img: start from this image
  --strength <x>            how far to move from --init-image, in [0, 1] (default 0.8; 1 with --mask)
  --mask <png|jpg>          inpainting: white repaints, black keeps (needs --init-image)
  --variant <name>          weights variant, e.g. fp16 (diffusion_pytorch_model.fp16.safetensors)
  --backend <name>     wasm (default), cpu, auto, webgpu, cuda
  --threads <n>        CPU threads: native kernels or threaded wasm (default: all cores, at most 8; 1 on a busy machine)
  -h, --help           this text`;

async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, USAGE, {
    scheduler: { type: 'string' },
    prompt: { type: 'string' },
    'negative-prompt': { type: 'string' },
    guidance: { type: 'string' },
    height: { type: 'string' },
    width: { type: 'string' },
    'init-image': { type: 'string' },
    strength: { type: 'string' },
    mask: { type: 'string' },
    class: { type: 'string' },
    variant: { type: 'string' },
    steps: { type: 'string' },
    ...SEED_OPTION,
    count: { type: 'string' },
    eta: { type: 'string' },
    output: { type: 'string', default: 'samples.png' },
    scale: { type: 'string' },
    ...BACKEND_AND_THREADS_OPTIONS,
  });
  if (args === undefined) return;
  const { values, positionals } = args;
  if (positionals.length > 1) throw new UsageError(`expected one model folder, got ${positionals.length}: ${positionals.join(' ')}`);
  const folder = modelFolder(positionals);
  const className = await pipelineClassOf(folder);
  if (className?.startsWith('StableDiffusion')) {
    await sampleStableDiffusion(folder, className, values);
    return;
  }
  const textOnly = ['prompt', 'negative-prompt', 'height', 'width', 'init-image', 'strength', 'mask', 'variant'].filter(
    (name) => values[name as keyof typeof values] !== undefined,
  );
  if (textOnly.length > 0)
    throw new UsageError(
      `--${textOnly[0]} is for Stable Diffusion folders; ${folder} is a ${className ?? 'folder without model_index.json'}`,
    );
  values.scheduler ??= 'ddim';
  schedulerOption(values.scheduler);
  const steps = integerOption(values.steps, 'steps', 25);
  const seed = seedOption(values.seed);
  const count = integerOption(values.count, 'count', 16);
  const eta = numberOption(values.eta, 'eta', 0, 0);
  const scale = integerOption(values.scale, 'scale', 2, 1, 16);
  const { pipeline, backend } = await loadCommandPipeline(folder, values, values.scheduler);
  try {
    const started = performance.now();
    const options = { batchSize: count, numInferenceSteps: steps, generator: new Generator(seed), eta };
    let guidance = '';
    let images: tf.Tensor4D;
    if (pipeline instanceof ClassConditionalPipeline) {
      const classes = pipeline.classCount;
      if (classes === 0 && values.class === undefined) throw new UsageError(`${folder}'s UNet has no class table: pass --class <id>`);
      const only =
        values.class === undefined ? undefined : integerOption(values.class, 'class', 0, 0, classes > 0 ? classes - 1 : undefined);
      const guidanceScale = numberOption(values.guidance, 'guidance', DEFAULT_CLASS_GUIDANCE, 0);
      const classLabels = Array.from({ length: count }, (_, i) => only ?? i % classes);
      ({ images } = await pipeline.generate({ ...options, classLabels, guidanceScale }));
      guidance = `, ${only === undefined ? `classes 0-${classes - 1}` : `class ${only}`}, guidance ${guidanceScale}`;
    } else {
      for (const name of ['class', 'guidance'] as const) {
        if (values[name] !== undefined)
          throw new UsageError(`--${name} is for class-conditional and Stable Diffusion folders; ${folder}'s UNet has no class embedding`);
      }
      ({ images } = await pipeline.generate(options));
    }
    const seconds = (performance.now() - started) / 1000;
    const output = resolve(values.output);
    await saveImageGrid(output, images, { scale });
    images.dispose();
    console.log(
      `wrote ${output}: ${count} images, ${pipeline.scheduler.className} ${steps} steps${guidance}, seed ${seed}, ${backend}, ${seconds.toFixed(1)} s`,
    );
  } finally {
    pipeline.dispose();
  }
}

/** The `_class_name` of a folder's `model_index.json`, or undefined when it has none. */
async function pipelineClassOf(folder: string): Promise<string | undefined> {
  const source = openPretrained(folder);
  if (!(await source.exists('model_index.json'))) return undefined;
  const name = (await source.readJson('model_index.json'))._class_name;
  return typeof name === 'string' ? name : undefined;
}

/** The `sample` command. */
export const sampleCommand: Command = { name: 'sample', summary: 'sample a PNG grid from a model folder', usage: USAGE, run };
