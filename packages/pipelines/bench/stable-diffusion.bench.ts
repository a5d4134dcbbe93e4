/**
 * One denoising step of a Stable Diffusion pipeline with SD 1.5's exact component shapes and
 * random weights (UNet 859.5M, text encoder 123.1M, VAE 83.7M parameters), at 512x512 with
 * classifier-free guidance (UNet batch 2) when it fits the backend, else the largest multiple of
 * 64 that the memory plan allows (the row says which). Also the text encoder on the two prompts
 * (batch 2) and the VAE decode of one 512x512 image, each stage alone on the backend (the
 * pipeline's `sequential` residency), and peak memory: the wasm heap (it only grows, so its final
 * size is the peak), the most tensor bytes alive during the step, and the process's peak RSS.
 *
 * Side by side (when Debian's python3-torch and the Diffusers checkout are present): the same
 * UNet call in PyTorch running Diffusers' own UNet2DConditionModel (float32, CPU).
 *
 * Environment: BENCH_BACKENDS (default "wasm+native"; "wasm" is tfjs' kernels), BENCH_SIZE (force
 * an image size), BENCH_TORCH=0 to skip PyTorch, DIFFUSERS_SRC (default /work/ref/diffusers).
 * Heavy: about 4.3 GB of weights are initialised; run this file alone.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import {
  formatBytes,
  initBackend,
  memoryCapacity,
  moveToHostMemory,
  useNativeKernels,
  WASM_HEAP_LIMIT_BYTES,
  type BackendName,
} from '@diffusion-ts/core';
import { AutoencoderKL, CLIPTextModel, countFlops, UNet2DConditionModel } from '@diffusion-ts/models';
import { PNDMScheduler } from '@diffusion-ts/schedulers';
import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';
import { SD15_UNET_CONFIG } from '@diffusion-ts/models/testing';
import { planMemory, StableDiffusionPipeline } from '../src/index.js';
import { stageEstimates } from '../src/stable-diffusion/stable-diffusion-plan.js';

type BenchBackend = BackendName | 'wasm+native';
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'wasm+native').split(',') as BenchBackend[];
const DIFFUSERS_SRC = process.env.DIFFUSERS_SRC ?? '/work/ref/diffusers';

/** SD 1.5's `unet/config.json`, `vae/config.json` and `text_encoder/config.json`. */
const SD15 = {
  unet: SD15_UNET_CONFIG,
  vae: {
    _class_name: 'AutoencoderKL',
    act_fn: 'silu',
    block_out_channels: [128, 256, 512, 512],
    down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D'],
    in_channels: 3,
    latent_channels: 4,
    layers_per_block: 2,
    norm_num_groups: 32,
    out_channels: 3,
    sample_size: 512,
    scaling_factor: 0.18215,
    up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D'],
  },
  text: {
    architectures: ['CLIPTextModel'],
    hidden_act: 'quick_gelu',
    hidden_size: 768,
    intermediate_size: 3072,
    layer_norm_eps: 1e-5,
    max_position_embeddings: 77,
    model_type: 'clip_text_model',
    num_attention_heads: 12,
    num_hidden_layers: 12,
    vocab_size: 49408,
    bos_token_id: 0,
    eos_token_id: 2,
    pad_token_id: 1,
  },
};

function heapBytes(): number | undefined {
  const backend = tf.backend() as unknown as { wasm?: { HEAPF32?: Float32Array; wasmMemory?: { buffer: ArrayBufferLike } } };
  return backend.wasm?.wasmMemory?.buffer.byteLength ?? backend.wasm?.HEAPF32?.byteLength;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** The largest image side (multiple of 64, at most 512) whose UNet step fits next to the UNet's weights. */
function largestSize(unetWeightBytes: number, backend: string): number {
  const limit = memoryCapacity(backend);
  for (let size = 512; size >= 64; size -= 64) {
    const estimates = stageEstimates({ unet: SD15.unet, vae: SD15.vae }, 1, size, size, true);
    try {
      planMemory(
        [{ component: 'unet', weightBytes: unetWeightBytes, largestTensorBytes: 0, activationBytes: estimates.unet }],
        limit,
        'sequential',
      );
      return size;
    } catch {
      // try the next size down
    }
  }
  throw new Error(`the SD 1.5 UNet's weights alone (${formatBytes(unetWeightBytes)}) do not fit ${backend}`);
}

function torchRow(size: number): string {
  if (process.env.BENCH_TORCH === '0') return 'PyTorch: skipped (BENCH_TORCH=0)';
  if (!existsSync('/usr/bin/python3') || !existsSync(DIFFUSERS_SRC)) return 'PyTorch: skipped (no /usr/bin/python3 or Diffusers checkout)';
  try {
    const script = new URL('../../../scripts/reference/sd15_unet_step_torch.py', import.meta.url).pathname;
    const out = execFileSync('/usr/bin/python3', [script, DIFFUSERS_SRC, String(size), String(cpus().length)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 1_800_000,
    });
    const row = JSON.parse(out.trim().split('\n').at(-1)!) as {
      best_s: number;
      first_s: number;
      threads: number;
      max_rss_mib: number;
      torch: string;
    };
    return `PyTorch ${row.torch} (Diffusers' UNet2DConditionModel, CPU, ${row.threads} threads): UNet call ${row.best_s.toFixed(2)} s (first ${row.first_s.toFixed(2)} s), peak RSS ${row.max_rss_mib.toFixed(0)} MiB`;
  } catch (error) {
    return `PyTorch: failed (${(error as Error).message.split('\n')[0]})`;
  }
}

it('Stable Diffusion 1.5 shapes: one denoising step (batch 2), text encoder, VAE decode, peak memory', async () => {
  const rows: string[] = [];
  let benchedSize = 512;
  for (const item of BACKENDS) {
    await initBackend(item === 'wasm+native' ? 'wasm' : item);
    if (item.startsWith('wasm')) {
      const status = await useNativeKernels(item === 'wasm+native');
      if (item === 'wasm+native' && !status.active) {
        rows.push(`| ${item} | skipped: ${status.reason} |`);
        continue;
      }
    }
    const backend = tf.getBackend();
    let peakTensorBytes = 0;
    const sample = () => (peakTensorBytes = Math.max(peakTensorBytes, tf.memory().numBytes));

    // Text encoder: two prompts (the negative and the positive), 77 tokens.
    let started = performance.now();
    const text = CLIPTextModel.fromConfig(SD15.text, { seed: 1 });
    const textInit = performance.now() - started;
    const ids = tf.tensor2d(
      Int32Array.from({ length: 2 * 77 }, (_, i) => (i % 77 === 0 ? 49406 : i % 77 < 8 ? 320 + i : 49407)),
      [2, 77],
      'int32',
    );
    const encodeOnce = async (): Promise<number> => {
      const begin = performance.now();
      const { lastHiddenState, poolerOutput } = text.encode(ids);
      await lastHiddenState.data();
      sample();
      tf.dispose([lastHiddenState, poolerOutput]);
      return performance.now() - begin;
    };
    const textFirst = await encodeOnce();
    const textBest = await encodeOnce();
    const promptEmbeds = tf.randomNormal([1, 77, 768], 0, 1, 'float32', 2) as tf.Tensor3D;
    const negativePromptEmbeds = tf.randomNormal([1, 77, 768], 0, 1, 'float32', 3) as tf.Tensor3D;
    text.dispose();
    ids.dispose();

    // VAE decode of one 512x512 image (once: it is long).
    started = performance.now();
    const vae = AutoencoderKL.fromConfig(SD15.vae, { seed: 4 });
    const vaeInit = performance.now() - started;
    const latents = tf.randomNormal([1, 64, 64, 4], 0, 1, 'float32', 5) as tf.Tensor4D;
    started = performance.now();
    const decoded = vae.decode(latents);
    await decoded.data();
    const vaeDecode = performance.now() - started;
    sample();
    tf.dispose([decoded, latents]);

    // The UNet step through the pipeline (sequential residency: the VAE waits in host memory, moved
    // there before the UNet's 3.2 GiB of weights are created).
    await moveToHostMemory(vae.trainableVariables());
    started = performance.now();
    const unet = UNet2DConditionModel.fromConfig(SD15.unet, { seed: 6 });
    const unetInit = performance.now() - started;
    const size = Number(process.env.BENCH_SIZE ?? largestSize(unet.parameterCount * 4, backend));
    benchedSize = size;
    const pipeline = new StableDiffusionPipeline({
      vae,
      unet,
      scheduler: new PNDMScheduler({
        betaSchedule: 'scaled_linear',
        betaStart: 0.00085,
        betaEnd: 0.012,
        skipPrkSteps: true,
        stepsOffset: 1,
      }),
      residency: 'sequential',
    });
    const stepTimes: number[] = [];
    let stepStart = performance.now();
    const { latents: result } = await pipeline.generate({
      promptEmbeds,
      negativePromptEmbeds,
      guidanceScale: 7.5,
      numInferenceSteps: 2,
      height: size,
      width: size,
      seed: 7,
      outputType: 'latent',
      onStep: () => {
        sample();
        stepTimes.push(performance.now() - stepStart);
        stepStart = performance.now();
      },
    });
    const finite = tf.tidy(() => tf.all(tf.isFinite(result!)).dataSync()[0] === 1);
    result!.dispose();
    pipeline.dispose();
    tf.dispose([promptEmbeds, negativePromptEmbeds]);
    const flops = countFlops(SD15.unet, 2, size / 8);
    const heap = heapBytes();
    rows.push(
      `| ${item} | ${size}x${size}${size === 512 ? '' : ' (largest that fits)'} | ${seconds(stepTimes[1] ?? stepTimes[0])} (first ${seconds(stepTimes[0])}), ${(flops / ((stepTimes[1] ?? stepTimes[0]) / 1000) / 1e9).toFixed(1)} GFLOP/s of ${(flops / 1e9).toFixed(0)} GFLOP | ${seconds(textBest)} (first ${seconds(textFirst)}) | ${seconds(vaeDecode)} | ${heap === undefined ? 'n/a' : `${formatBytes(heap)} of ${formatBytes(WASM_HEAP_LIMIT_BYTES)}`} | ${formatBytes(peakTensorBytes)} | ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB | init ${seconds(textInit)} / ${seconds(unetInit)} / ${seconds(vaeInit)} | ${finite ? 'finite' : 'NOT FINITE'} |`,
    );
  }
  const load = loadavg()
    .map((value) => value.toFixed(1))
    .join(' ');
  console.log(
    [
      '',
      `Stable Diffusion 1.5 shapes, random weights (${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${load}):`,
      '| backend | image | UNet step (batch 2, guidance) | text encoder (2 × 77 tokens) | VAE decode (512x512) | wasm heap (peak) | tensors (peak) | process RSS (peak) | weight init text / UNet / VAE | output |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...rows,
      torchRow(benchedSize),
      '',
    ].join('\n'),
  );
}, 3_600_000);
