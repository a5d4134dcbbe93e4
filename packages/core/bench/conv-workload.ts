import * as tf from '@tensorflow/tfjs-core';

import { measureMachinePeak } from '@diffusion-ts/native';
import os from 'node:os';

/**
 * This machine's fp32 peak: PEAK_GFLOPS when set, else measured by @diffusion-ts/native (FMA
 * chains in the widest vectors on every core), else 157, the figure of the machine the issue
 * measured (2-core AMD EPYC, AVX2 + FMA).
 */
async function machinePeak(): Promise<{ gflops: number; source: string }> {
  if (process.env['PEAK_GFLOPS']) return { gflops: Number(process.env['PEAK_GFLOPS']), source: 'PEAK_GFLOPS' };
  try {
    const { gflops, isa, threads } = await measureMachinePeak(os.cpus().length);
    return { gflops, source: `measured, ${isa} FMA on ${threads} threads` };
  } catch {
    return { gflops: 157, source: "the issue's machine; @diffusion-ts/native is not built" };
  }
}

const PEAK = await machinePeak();
/** The fp32 peak the fractions in brackets divide by, in GFLOP/s. */
export const PEAK_GFLOPS = PEAK.gflops;
/** Where `PEAK_GFLOPS` came from. */
export const PEAK_SOURCE = PEAK.source;

/** A stack of 3x3 'same' convolutions with C -> C channels on an [n, h, w, C] activation. */
export interface ConvWorkload {
  layers: number;
  shape: [number, number, number, number];
}

/** The workload: 10 layers of 3x3 conv 64->64 on [8,32,32,64] (6.04 GFLOP per forward). */
export const FULL_WORKLOAD: ConvWorkload = { layers: 10, shape: [8, 32, 32, 64] };
/** What tfjs cpu (pure JS) gets through in seconds: one layer on [1,16,16,64]. */
export const SMALL_WORKLOAD: ConvWorkload = { layers: 1, shape: [1, 16, 16, 64] };

/** Floating-point operations (2 per multiply-add) of one pass over the workload. */
export function workloadFlops({ layers, shape: [n, h, w, c] }: ConvWorkload): number {
  return 2 * layers * n * h * w * c * c * 9;
}

/**
 * Best wall time in milliseconds of `run` (after one warm-up). cpu and wasm run kernels
 * synchronously, so the result is complete when `run` returns; it is not read back, since
 * copying fresh buffers out of the wasm heap can cost more than the kernel on a busy VM.
 */
export function bestTime(run: () => tf.Tensor, repeats: number): number {
  const sync = ['cpu', 'wasm'].includes(tf.getBackend());
  const once = () =>
    tf.tidy(() => {
      const result = run();
      if (!sync) result.dataSync();
    });
  once();
  let best = Infinity;
  for (let repeat = 0; repeat < repeats; repeat++) {
    const start = performance.now();
    once();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

/** One measured row: milliseconds and GFLOP/s per pass. */
export interface PassTiming {
  milliseconds: number;
  gflops: number;
}

/** Forward, weight-gradient and input-gradient timings of the workload on the active backend. */
export interface WorkloadTimings {
  forward: PassTiming;
  weightGradient: PassTiming;
  inputGradient: PassTiming;
}

/** Deterministic inputs: the activation, one filter per layer and an upstream gradient. */
function workloadTensors({ layers, shape }: ConvWorkload): { x: tf.Tensor4D; filters: tf.Tensor4D[]; dy: tf.Tensor4D } {
  const channels = shape[3];
  const x = tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor4D;
  const dy = tf.randomNormal(shape, 0, 1, 'float32', 2) as tf.Tensor4D;
  const filters = Array.from(
    { length: layers },
    (_, layer) => tf.randomNormal([3, 3, channels, channels], 0, 1 / 24, 'float32', 10 + layer) as tf.Tensor4D,
  );
  return { x, filters, dy };
}

/** Times the three passes; each runs every layer once (the gradients with the same x and dy). */
export function timeWorkload(workload: ConvWorkload, repeats: number): WorkloadTimings {
  const flops = workloadFlops(workload);
  const { x, filters, dy } = workloadTensors(workload);
  const attributes = { strides: 1, pad: 'same', dataFormat: 'NHWC' } as const;
  const pass = (milliseconds: number): PassTiming => ({ milliseconds, gflops: flops / milliseconds / 1e6 });
  const forward = bestTime(() => filters.reduce((activation, filter) => tf.conv2d(activation, filter, 1, 'same'), x), repeats);
  const weightGradient = bestTime(
    () =>
      tf.stack(
        filters.map((filter) =>
          tf.engine().runKernel<tf.Tensor>('Conv2DBackpropFilter', { x, dy }, { ...attributes, filterShape: filter.shape }),
        ),
      ),
    repeats,
  );
  const inputGradient = bestTime(
    () => tf.stack(filters.map((filter) => tf.conv2dTranspose(dy, filter, workload.shape, 1, 'same'))),
    repeats,
  );
  tf.dispose([x, dy, ...filters]);
  return { forward: pass(forward), weightGradient: pass(weightGradient), inputGradient: pass(inputGradient) };
}

/** A Markdown table row for one backend configuration. */
export function tableRow(label: string, workload: ConvWorkload, timings: WorkloadTimings): string {
  const cell = ({ milliseconds, gflops }: PassTiming) =>
    `${milliseconds.toFixed(1)} ms, ${gflops.toFixed(gflops < 1 ? 3 : 1)} GFLOP/s (${((100 * gflops) / PEAK_GFLOPS).toFixed(gflops < 1 ? 2 : 1)}%)`;
  const [n, h, w, c] = workload.shape;
  return `| ${label} | ${workload.layers} x [${n},${h},${w},${c}] | ${cell(timings.forward)} | ${cell(timings.weightGradient)} | ${cell(timings.inputGradient)} |`;
}

/** The table's header. */
export function tableHeader(): string {
  return [
    `3x3 conv C->C, 'same', stride 1; fraction of the ${PEAK_GFLOPS.toFixed(0)} GFLOP/s fp32 peak (${PEAK_SOURCE}) in brackets`,
    '| backend | workload | forward | weight gradient | input gradient |',
    '|---|---|---|---|---|',
  ].join('\n');
}
