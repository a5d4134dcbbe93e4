import type * as tf from '@tensorflow/tfjs-core';

/** Checks that `sample` is NHWC with the model's channel count and a spatial size the UNet can halve. */
export function validateSample(sample: tf.Tensor, inChannels: number, downsampleCount: number, context: string): void {
  if (sample.rank !== 4) {
    throw new Error(`${context}: sample must be NHWC [batch, height, width, channels], got shape [${sample.shape.join(', ')}]`);
  }
  const [, height, width, channels] = sample.shape;
  if (channels !== inChannels) {
    throw new Error(
      `${context}: sample has ${channels} channels but the model expects in_channels = ${inChannels} (the layout is NHWC; channels come last)`,
    );
  }
  const multiple = 2 ** downsampleCount;
  if (height % multiple !== 0 || width % multiple !== 0) {
    throw new Error(`${context}: sample height and width (${height}x${width}) must be multiples of ${multiple} (2^${downsampleCount} downsamples)`);
  }
  if (sample.dtype !== 'float32') throw new Error(`${context}: sample must be float32, got ${sample.dtype}`);
}
