// Conv throughput on tfjs cpu and wasm (one thread), with diffusion-ts' wasm gradient kernels, and
// on wasm with @diffusion-ts/native's kernels.
// Run with `pnpm bench` in packages/core; the threaded wasm row comes from the sibling file.
import * as tf from '@tensorflow/tfjs-core';
import os from 'node:os';
import { it } from 'vitest';

import { initBackend, registerWasmTrainingKernels, useNativeKernels } from '../src/index.js';
import { FULL_WORKLOAD, SMALL_WORKLOAD, bestTime, tableHeader, tableRow, timeWorkload, workloadFlops } from './conv-workload.js';

it('conv forward / weight-gradient / input-gradient throughput on cpu and wasm', async () => {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines = [`machine: ${os.cpus().length} x ${cpu}, Node ${process.version}`, tableHeader()];

  await initBackend('cpu');
  lines.push(tableRow('tfjs cpu (pure JS)', SMALL_WORKLOAD, timeWorkload(SMALL_WORKLOAD, 2)));

  // tfjs wasm's own input-gradient kernel, kept for comparison before ours replaces it.
  await import('@tensorflow/tfjs-backend-wasm');
  const tfjsInputGradient = tf.getKernel('Conv2DBackpropInput', 'wasm');
  await initBackend('wasm');
  registerWasmTrainingKernels();
  const backend = tf.backend();
  if (tfjsInputGradient !== undefined && tfjsInputGradient.kernelFunc !== tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc) {
    tfjsInputGradient.setupFunc?.(backend);
    const dy = tf.randomNormal(FULL_WORKLOAD.shape, 0, 1, 'float32', 2) as tf.Tensor4D;
    const filter = tf.randomNormal([3, 3, 64, 64], 0, 0.04, 'float32', 3) as tf.Tensor4D;
    const milliseconds = bestTime(() => {
      for (let layer = 0; layer < FULL_WORKLOAD.layers; layer++) {
        const out = tfjsInputGradient.kernelFunc({
          inputs: { dy, filter },
          backend,
          attrs: { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: FULL_WORKLOAD.shape },
        }) as tf.TensorInfo;
        backend.disposeData(out.dataId);
      }
      return tf.scalar(0);
    }, 2);
    const gflops = workloadFlops(FULL_WORKLOAD) / milliseconds / 1e6;
    lines.push(`(tfjs wasm's own Conv2DBackpropInput on the full workload: ${milliseconds.toFixed(0)} ms, ${gflops.toFixed(1)} GFLOP/s)`);
    tf.dispose([dy, filter]);
  }
  await useNativeKernels(false);
  lines.push(tableRow('tfjs wasm, 1 thread + diffusion-ts kernels', FULL_WORKLOAD, timeWorkload(FULL_WORKLOAD, 3)));
  const native = await useNativeKernels(true);
  if (native.active) {
    lines.push(
      tableRow(`wasm + @diffusion-ts/native (${native.isa}, ${native.threads} threads)`, FULL_WORKLOAD, timeWorkload(FULL_WORKLOAD, 3)),
    );
  } else {
    lines.push(`(@diffusion-ts/native: ${native.reason})`);
  }
  console.log(lines.join('\n'));
});
