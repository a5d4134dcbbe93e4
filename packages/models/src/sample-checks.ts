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

/** Checks that class labels [batch] are given exactly when the model has a class embedding. */
export function validateClassLabels(classLabels: tf.Tensor1D | undefined, batch: number, hasClassEmbedding: boolean, context: string): void {
  if (hasClassEmbedding && !classLabels) throw new Error(`${context}: classLabels are required by this class-conditional model`);
  if (!hasClassEmbedding && classLabels) {
    throw new Error(`${context}: classLabels were given but the model has no class embedding (num_class_embeds / class_embed_type)`);
  }
  if (classLabels && (classLabels.rank !== 1 || classLabels.shape[0] !== batch)) {
    throw new Error(`${context}: classLabels must have shape [${batch}], got [${classLabels.shape.join(', ')}]`);
  }
}
