/**
 * The size of one denoising step, checked against the backend before `generate` allocates
 * anything: the UNet's weights, its activations at the batch and image size (the model's own
 * estimate), and the few samples the loop holds, against what the active backend can hold
 * (core's `memoryCapacity`: 4 GiB for wasm, the machine's memory for cpu, buffer limits for
 * WebGPU). Too large is a `BackendError` (`insufficient-memory`) naming both.
 */
import { BackendError, formatBytes, memoryCapacity } from '@diffusion-ts/core';
import type { ModelSizeEstimate, UNetEstimateSize } from '@diffusion-ts/models';

/** A model that can estimate the memory of its forward pass (both UNets can). */
export interface MemoryEstimator {
  estimateMemory(size: UNetEstimateSize): ModelSizeEstimate;
}

/** The work of one step. */
export interface StepWork {
  /** Images asked for. */
  batchSize: number;
  /** Rows the model sees per step: `batchSize`, doubled with classifier-free guidance. */
  modelBatch: number;
  height: number;
  width: number;
  channels: number;
  /** Context tokens of cross-attention models. */
  sequenceLength?: number;
}

/** Samples of the loop's size alive at once besides the model's activations (x_t, the noise, the output, x_{t-1}). */
const LOOP_SAMPLES = 4;

/** Throws a `BackendError` when one step of `work` cannot fit the active backend. */
export function checkStepWork(model: MemoryEstimator, work: StepWork, context: string): void {
  const { batchSize, modelBatch, height, width, channels } = work;
  const estimate = model.estimateMemory({ batch: modelBatch, height, width, sequenceLength: work.sequenceLength });
  const sampleBytes = 4 * batchSize * height * width * channels;
  const total = estimate.parameterBytes + (estimate.activationBytes ?? 0) + LOOP_SAMPLES * sampleBytes;
  const largest = Math.max(estimate.largestTensorBytes ?? 0, sampleBytes);
  const capacity = memoryCapacity();
  if (total <= capacity.totalBytes && largest <= capacity.maxTensorBytes) return;
  const batch = modelBatch === batchSize ? `batch ${batchSize}` : `batch ${modelBatch} (${batchSize} doubled for guidance)`;
  const need =
    total > capacity.totalBytes
      ? `needs about ${formatBytes(total)} (weights ${formatBytes(estimate.parameterBytes)}, activations ${formatBytes(estimate.activationBytes ?? 0)})`
      : `needs a single tensor of about ${formatBytes(largest)}`;
  throw new BackendError(
    capacity.backend,
    'insufficient-memory',
    `${context}: one step at ${batch} of ${height}x${width} ${need}, more than the ${capacity.backend} backend can hold (${capacity.description}); lower batchSize or the image size`,
  );
}
