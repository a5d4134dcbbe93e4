import * as tf from '@tensorflow/tfjs-core';
import { syncReadbackAllowed } from '@diffusion-ts/core';

/**
 * Checks that `sample` is a float32 NHWC tensor with the model's channel count and a spatial size
 * the model can halve `downsampleCount` times: `TypeError` for a non-tensor or another dtype,
 * `RangeError` for a wrong rank, channel count or size.
 */
export function validateSample(
  sample: tf.Tensor,
  inChannels: number,
  downsampleCount: number,
  context: string,
  name = 'sample',
  channelsKey = 'in_channels',
): void {
  if (!(sample instanceof tf.Tensor)) throw new TypeError(`${context}: ${name} must be a tf.Tensor, got ${typeof sample}`);
  if (sample.isDisposed) throw new TypeError(`${context}: ${name} has been disposed`);
  if (sample.rank !== 4) {
    throw new RangeError(`${context}: ${name} must be NHWC [batch, height, width, channels], got shape [${sample.shape.join(', ')}]`);
  }
  const [batch, height, width, channels] = sample.shape;
  if (batch === 0 || height === 0 || width === 0) throw new RangeError(`${context}: ${name} is empty, shape [${sample.shape.join(', ')}]`);
  if (channels !== inChannels) {
    throw new RangeError(
      `${context}: ${name} has ${channels} channels but the model expects ${channelsKey} = ${inChannels} (the layout is NHWC; channels come last)`,
    );
  }
  const multiple = 2 ** downsampleCount;
  if (height % multiple !== 0 || width % multiple !== 0) {
    throw new RangeError(
      `${context}: ${name} height and width (${height}x${width}) must be multiples of ${multiple} (2^${downsampleCount} downsamples)`,
    );
  }
  if (sample.dtype !== 'float32') throw new TypeError(`${context}: ${name} must be float32, got ${sample.dtype}`);
}

/** Throws a `RangeError` if `x` holds NaN or ±Infinity (one scalar read-back; skipped on webgpu). */
export function assertFiniteSample(x: tf.Tensor, context: string, name = 'sample'): void {
  // Skipped where a read-back would stall the GPU (webgpu).
  if (!syncReadbackAllowed()) return;
  const finite = tf.tidy(() => tf.all(tf.isFinite(x)).dataSync()[0]);
  if (!finite) throw new RangeError(`${context}: ${name} contains NaN or Infinity`);
}

/** Checks that class labels [batch] are given exactly when the model has a class embedding. */
export function validateClassLabels(
  classLabels: tf.Tensor1D | undefined,
  batch: number,
  hasClassEmbedding: boolean,
  context: string,
): void {
  if (hasClassEmbedding && !classLabels) throw new Error(`${context}: classLabels are required by this class-conditional model`);
  if (!hasClassEmbedding && classLabels) {
    throw new Error(`${context}: classLabels were given but the model has no class embedding (num_class_embeds / class_embed_type)`);
  }
  if (classLabels && (classLabels.rank !== 1 || classLabels.shape[0] !== batch)) {
    throw new Error(`${context}: classLabels must have shape [${batch}], got [${classLabels.shape.join(', ')}]`);
  }
}
