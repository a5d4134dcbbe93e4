// The same conv workload on tfjs wasm's multi-threaded SIMD build (initWasmThreaded). Its own
// file: the threaded build must be chosen before the wasm backend first initialises.
import os from 'node:os';
import { it } from 'vitest';

import { registerGradients } from '../src/backend/init-backend.js';
import { initWasmThreaded, registerWasmTrainingKernels, useNativeKernels } from '../src/index.js';
import { FULL_WORKLOAD, tableRow, timeWorkload } from './conv-workload.js';

it('conv throughput on threaded wasm', async () => {
  await registerGradients();
  // WASM_THREADS=1 runs the threaded build on one thread, isolating the threads' effect.
  const requested = Number(process.env['WASM_THREADS'] ?? Math.min(os.cpus().length, 8));
  const { threads } = await initWasmThreaded({ threads: requested });
  registerWasmTrainingKernels();
  // tfjs' own threaded kernels, not @diffusion-ts/native's (the other file measures those).
  await useNativeKernels(false);
  console.log(
    tableRow(`tfjs wasm threaded build, ${threads} thread(s) + diffusion-ts kernels`, FULL_WORKLOAD, timeWorkload(FULL_WORKLOAD, 3)),
  );
});
