/**
 * Memory planning for latent pipelines: each component's weights (counted from the safetensors
 * headers before anything is loaded) and the activations of its stage at an image size, against
 * what the backend can hold. A pipeline keeps every component resident when all fit together, else
 * one stage's component at a time (the others' weights moved to host memory), else it refuses,
 * naming the component, its size and the backend.
 */
import { formatBytes, type MemoryCapacity } from '@diffusion-ts/core';

/** Memory reserved below the backend's limit: the wasm module's own data, fragmentation, small tensors. */
export const MEMORY_HEADROOM_BYTES = 64 * 2 ** 20;

/** One component's share of a plan. */
export interface MemoryPlanRow {
  /** The component name in `model_index.json` (`unet`, `vae`, `text_encoder`). */
  component: string;
  /** Its weights once loaded (float32). */
  weightBytes: number;
  /** Its largest single weight tensor once loaded. */
  largestTensorBytes: number;
  /** Peak activations of its stage at the planned size (estimated). */
  activationBytes: number;
}

/** How components share memory: all loaded at once, or only the running stage's weights on the backend. */
export type Residency = 'resident' | 'sequential';

/** A checked plan. */
export interface MemoryPlan {
  backend: string;
  /** The usable bytes (the backend's limit less `MEMORY_HEADROOM_BYTES`); `null` when the backend does not say. */
  limitBytes: number | null;
  residency: Residency;
  rows: MemoryPlanRow[];
  /** The peak the plan expects: all weights plus the largest stage's activations (resident), or the largest stage (sequential). */
  peakBytes: number;
}

/** A pipeline that cannot fit the backend; names the component, its size and the backend. */
export class MemoryPlanError extends Error {
  constructor(
    message: string,
    readonly component: string,
    readonly bytes: number,
    readonly backend: string,
    readonly limitBytes: number,
  ) {
    super(message);
    this.name = 'MemoryPlanError';
  }
}

/**
 * `limit` (core's `memoryCapacity` of the backend) capped at `capBytes` of usable memory (a
 * caller's own budget, e.g. what a browser tab may take); the headroom is not taken off a cap.
 */
export function capMemoryLimit(limit: MemoryCapacity, capBytes: number | undefined): MemoryCapacity {
  if (capBytes === undefined) return limit;
  if (!(capBytes > 0)) throw new RangeError(`memoryLimit must be a positive number of bytes, got ${String(capBytes)}`);
  const capped = capBytes + MEMORY_HEADROOM_BYTES;
  if (limit.totalBytes <= capped) return limit;
  return { ...limit, totalBytes: capped, description: `memoryLimit ${formatBytes(capBytes)}` };
}

/**
 * Checks `rows` against `limit` and picks the residency (`'auto'`: resident when everything fits
 * at once, else sequential). Throws a `MemoryPlanError` when one stage (its weights and
 * activations) exceeds the backend, or when `residency: 'resident'` is asked and the whole does,
 * or when one weight tensor exceeds the backend's per-tensor limit (WebGPU buffers, cpu typed arrays).
 */
export function planMemory(
  rows: MemoryPlanRow[],
  limit: MemoryCapacity,
  residency: Residency | 'auto' = 'auto',
  what = 'pipeline',
): MemoryPlan {
  const backend = limit.backend;
  // A per-tensor limit below the whole (WebGPU buffers, cpu typed arrays); where it is the whole
  // (the wasm heap), the stage check below says more.
  const perTensor = limit.maxTensorBytes < limit.totalBytes;
  for (const row of perTensor ? rows : []) {
    if (row.largestTensorBytes > limit.maxTensorBytes) {
      throw new MemoryPlanError(
        `${what}: the ${row.component} has a ${formatBytes(row.largestTensorBytes)} weight tensor, more than one ${backend} tensor may hold (${formatBytes(limit.maxTensorBytes)}; ${limit.description})`,
        row.component,
        row.largestTensorBytes,
        backend,
        limit.maxTensorBytes,
      );
    }
  }
  const weights = rows.reduce((sum, row) => sum + row.weightBytes, 0);
  const largestActivation = Math.max(0, ...rows.map((row) => row.activationBytes));
  const stages = rows.map((row) => ({ row, bytes: row.weightBytes + row.activationBytes }));
  const largestStage = stages.reduce((best, stage) => (stage.bytes > best.bytes ? stage : best), stages[0] ?? { row: undefined, bytes: 0 });
  if (!Number.isFinite(limit.totalBytes)) {
    return {
      backend,
      limitBytes: null,
      residency: residency === 'sequential' ? 'sequential' : 'resident',
      rows,
      peakBytes: weights + largestActivation,
    };
  }
  const usable = Math.max(0, limit.totalBytes - MEMORY_HEADROOM_BYTES);
  if (largestStage.row !== undefined && largestStage.bytes > usable) {
    const { row } = largestStage;
    throw new MemoryPlanError(
      `${what}: the ${row.component} needs ${formatBytes(row.weightBytes)} of float32 weights and about ${formatBytes(row.activationBytes)} of activations, ` +
        `${formatBytes(largestStage.bytes)} in all, more than the ${backend} backend can hold (${formatBytes(usable)} usable of ${formatBytes(limit.totalBytes)}; ${limit.description})`,
      row.component,
      largestStage.bytes,
      backend,
      usable,
    );
  }
  const together = weights + largestActivation;
  if (residency === 'resident' && together > usable) {
    throw new MemoryPlanError(
      `${what}: all components together need ${formatBytes(together)} (weights ${formatBytes(weights)}), more than the ${backend} backend can hold (${formatBytes(usable)} usable); use residency 'sequential' or 'auto'`,
      'all',
      together,
      backend,
      usable,
    );
  }
  const chosen: Residency = residency === 'auto' ? (together <= usable ? 'resident' : 'sequential') : residency;
  return { backend, limitBytes: usable, residency: chosen, rows, peakBytes: chosen === 'resident' ? together : largestStage.bytes };
}

/** The parts of a UNet config the activation estimate reads. */
export interface UNetShape {
  blockOutChannels: readonly number[];
  layersPerBlock: number | readonly number[];
  /** Self-attention heads at the widest attention level (Diffusers' `attention_head_dim` for SD 1.x). */
  attentionHeads: number;
  /** Whether the first level attends (SD: `CrossAttnDownBlock2D` first). */
  attentionAtFirstLevel: boolean;
}

const FLOAT = 4;

/**
 * Estimated peak activation bytes of one UNet call on `batch` latents of `height` x `width`: the
 * skip connections the down path keeps, a working set of eight feature maps of the largest level,
 * and self-attention's query chunk (scores, probabilities and a temporary, at most
 * `scoreBudget` elements each) with its projections.
 */
export function estimateUNetActivationBytes(unet: UNetShape, batch: number, height: number, width: number, scoreBudget: number): number {
  const levels = unet.blockOutChannels.length;
  let skips = batch * height * width * unet.blockOutChannels[0];
  let largestMap = 0;
  for (let level = 0; level < levels; level += 1) {
    const pixels = Math.ceil(height / 2 ** level) * Math.ceil(width / 2 ** level);
    const channels = unet.blockOutChannels[level];
    const layers = typeof unet.layersPerBlock === 'number' ? unet.layersPerBlock : unet.layersPerBlock[level];
    skips += batch * pixels * channels * (layers + (level < levels - 1 ? 1 : 0));
    largestMap = Math.max(largestMap, batch * pixels * (channels + (unet.blockOutChannels[level + 1] ?? channels)));
  }
  const tokens = unet.attentionAtFirstLevel ? height * width : Math.ceil(height / 2) * Math.ceil(width / 2);
  const channels = unet.blockOutChannels[unet.attentionAtFirstLevel ? 0 : 1] ?? unet.blockOutChannels[0];
  const scores = Math.min(scoreBudget, batch * unet.attentionHeads * tokens * tokens);
  const attention = 3 * scores + 4 * batch * tokens * channels;
  return FLOAT * (skips + 8 * largestMap + attention);
}

/** The parts of a VAE config the decode estimate reads. */
export interface VaeShape {
  blockOutChannels: readonly number[];
  latentChannels: number;
}

/**
 * Estimated peak activation bytes of decoding `batch` latents to `height` x `width` images (one
 * item at a time when `sliced`; with tiling, pass the tile's size): eight feature maps of the
 * largest decoder level plus the mid-block attention (one head over every latent pixel).
 */
export function estimateVaeDecodeBytes(vae: VaeShape, batch: number, height: number, width: number, scoreBudget: number): number {
  const levels = vae.blockOutChannels.length;
  let largestMap = 0;
  for (let level = 0; level < levels; level += 1) {
    const pixels = Math.ceil(height / 2 ** level) * Math.ceil(width / 2 ** level);
    largestMap = Math.max(largestMap, batch * pixels * vae.blockOutChannels[level]);
  }
  const factor = 2 ** (levels - 1);
  const tokens = Math.ceil(height / factor) * Math.ceil(width / factor);
  const top = vae.blockOutChannels[levels - 1];
  const attention = 3 * Math.min(scoreBudget, batch * tokens * tokens) + 4 * batch * tokens * top;
  return FLOAT * (8 * largestMap + attention);
}

/** Estimated activation bytes of the text encoder on `batch` sequences of `length` tokens. */
export function estimateTextEncoderBytes(
  hiddenSize: number,
  intermediateSize: number,
  heads: number,
  batch: number,
  length: number,
): number {
  return FLOAT * batch * length * (8 * hiddenSize + 2 * intermediateSize + 3 * heads * length);
}
