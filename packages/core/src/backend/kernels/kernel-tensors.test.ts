import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from '../../index.js';
import { testBackendNames } from '../../testing/index.js';
import { unsortedSegmentSumKernel } from './unsorted-segment-sum.js';

describe.each(testBackendNames())('composed kernels called with bare TensorInfos on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it('leaves the inputs alive and hands back exactly one reference to the output', async () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const ids = tf.tensor1d([1, 0, 1], 'int32');
    const tensorsBefore = tf.memory().numTensors;
    const buffersBefore = tf.memory().numDataBuffers;
    const bare = (tensor: tf.Tensor): tf.TensorInfo => ({ dataId: tensor.dataId, shape: tensor.shape, dtype: tensor.dtype });
    const info = unsortedSegmentSumKernel({
      inputs: { x: bare(x), segmentIds: bare(ids) },
      backend: tf.backend(),
      attrs: { numSegments: 2 },
    });
    // The engine wraps a kernel's output like this; disposing the wrapper must free it.
    const output = tf.engine().makeTensorFromTensorInfo(info);
    expect(Array.from(await output.data())).toEqual([3, 4, 6, 8]);
    expect(Array.from(await x.data())).toEqual([1, 2, 3, 4, 5, 6]);
    output.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(tf.memory().numDataBuffers).toBe(buffersBefore);
    tf.dispose([x, ids]);
  });
});
