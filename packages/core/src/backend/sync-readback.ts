import * as tf from '@tensorflow/tfjs-core';

/**
 * Whether a synchronous read-back (`dataSync`) is acceptable on the active backend. On webgpu it
 * stalls the GPU queue (tfjs warns), and in Chromium on a software adapter it can lose the device;
 * input checks that would need one (NaN / Infinity in a sample) skip themselves there.
 */
export function syncReadbackAllowed(): boolean {
  return tf.getBackend() !== 'webgpu';
}
