/**
 * The components of a Stable Diffusion pipeline and the checks that they fit together: the VAE's
 * latent channels against the UNet's input and output channels, the text encoder's hidden size
 * against the UNet's `cross_attention_dim`. Run on configs before weights are loaded and again on
 * the models a pipeline is built from.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { AutoencoderKL, CLIPTextModelOutput, UNet2DConditionModel } from '@diffusion-ts/models';
import type { Scheduler } from '@diffusion-ts/schedulers';
import type { MemoryPlan, Residency } from './memory-plan.js';
import type { PromptTokenizer } from './prompt-tokenizer.js';

/** A CLIP text encoder as the pipelines use it (`CLIPTextModel` and `CLIPTextModelWithProjection` fit). */
export interface PromptEncoder {
  /** `CLIPTextModel` or `CLIPTextModelWithProjection`. */
  readonly className: string;
  readonly config: {
    readonly hiddenSize: number;
    readonly intermediateSize: number;
    readonly numAttentionHeads: number;
    readonly numHiddenLayers: number;
  };
  encode(inputIds: tf.Tensor2D, options?: { outputHiddenStates?: boolean }): CLIPTextModelOutput;
  applyFinalLayerNorm(hiddenState: tf.Tensor3D): tf.Tensor3D;
  trainableVariables(): tf.Variable[];
  save(folder: string): Promise<void>;
  dispose(): void;
}

/**
 * What a Stable Diffusion pipeline is built from (Diffusers' component names in camelCase), and
 * its constructor options. The tokenizer and text encoder may be left out by callers who pass
 * `promptEmbeds`; `save` needs a tokenizer that is a pipeline component (`ClipTokenizerComponent`,
 * as `fromPretrained` loads it).
 */
export interface StableDiffusionComponents {
  vae: AutoencoderKL;
  unet: UNet2DConditionModel;
  scheduler: Scheduler;
  textEncoder?: PromptEncoder;
  tokenizer?: PromptTokenizer & { readonly className?: string };
  /** `resident` (default) keeps every model on the backend; `sequential` only the running stage's (the others wait in host memory). */
  residency?: Residency;
  /** Plan for at most this many bytes, below the backend's own limit (e.g. what a browser tab may take). */
  memoryLimit?: number;
  /** The plan the components were loaded under (set by `fromPretrained`). */
  memoryPlan?: MemoryPlan;
  /** Receives notes (scheduler config fixes). Default `console.warn`. */
  onWarning?: (message: string) => void;
}

/** Which pipeline the components serve: the UNet's input channels depend on it. */
export type PipelineTask = 'text-to-image' | 'img2img' | 'inpaint';

/** The numbers the fit checks read, from configs or from loaded models. */
export interface ComponentShapes {
  latentChannels: number;
  unetInChannels: number;
  unetOutChannels: number;
  /** The distinct `cross_attention_dim`s of the UNet. */
  crossAttentionDims: readonly number[];
  /** The text encoder's hidden size, when there is a text encoder. */
  textHiddenSize?: number;
}

/**
 * Throws a clear error when the components cannot work together: latent channels that are not the
 * UNet's input (text-to-image, img2img; inpainting also takes 2 x latent + 1, the 9-channel
 * inpainting UNet) or output channels, or a text hidden size that is not the cross-attention width.
 */
export function checkComponentShapes(shapes: ComponentShapes, task: PipelineTask, context: string): void {
  const { latentChannels, unetInChannels, unetOutChannels, crossAttentionDims, textHiddenSize } = shapes;
  const inpaintingInput = 2 * latentChannels + 1;
  const inputFits = unetInChannels === latentChannels || (task === 'inpaint' && unetInChannels === inpaintingInput);
  if (!inputFits) {
    const expected =
      task === 'inpaint' ? `${latentChannels} (masked-latent blend) or ${inpaintingInput} (inpainting UNet)` : String(latentChannels);
    throw new RangeError(
      `${context}: the VAE makes ${latentChannels}-channel latents but the UNet takes in_channels ${unetInChannels} (expected ${expected})`,
    );
  }
  if (unetOutChannels !== latentChannels) {
    throw new RangeError(
      `${context}: the UNet predicts out_channels ${unetOutChannels} but the VAE's latents have ${latentChannels} channels`,
    );
  }
  if (textHiddenSize !== undefined) {
    const wrong = crossAttentionDims.find((dim) => dim !== textHiddenSize);
    if (wrong !== undefined) {
      throw new RangeError(
        `${context}: the text encoder's hidden size is ${textHiddenSize} but the UNet's cross_attention_dim is ${wrong}`,
      );
    }
  }
}

/** The distinct values of a per-block config entry. */
export function distinct(value: number | readonly number[]): number[] {
  return [...new Set(typeof value === 'number' ? [value] : value)];
}

/** The shapes of loaded components. */
export function shapesOf(components: Pick<StableDiffusionComponents, 'vae' | 'unet' | 'textEncoder'>): ComponentShapes {
  const { vae, unet, textEncoder } = components;
  return {
    latentChannels: vae.config.latentChannels,
    unetInChannels: unet.config.inChannels,
    unetOutChannels: unet.config.outChannels,
    crossAttentionDims: distinct(unet.config.crossAttentionDim),
    textHiddenSize: textEncoder?.config.hiddenSize,
  };
}
