/** Test helper: run a fixture sampling loop with the dummy model and measure the worst error. */
import * as tf from '@tensorflow/tfjs-core';
import type { Scheduler, StepOptions } from '../scheduler.js';
import { dummyModel, float32Values, maxMixedError, toTensor, type FixtureArray } from './fixtures.js';

/** One stored loop of a fixture file. */
export interface LoopCase {
  name: string;
  sample0: string;
  scheduler_config: Record<string, unknown>;
  num_inference_steps: number;
  timesteps: FixtureArray;
  eta?: number;
  steps: { t: number; prev_sample: FixtureArray; pred_original_sample_stats?: { sum_float64: number } }[];
}

/** The parts of a loop fixture file the tests read. */
export interface LoopFixture {
  sample0_array: FixtureArray;
  sample0_wide_array: FixtureArray;
  cases: LoopCase[];
}

/** Result of `runLoop`. */
export interface LoopReport {
  worst: number;
  worstPredOriginalSum: number;
  leaked: number;
}

/**
 * Runs `scheduler` (already `setTimesteps`-ed) over the case's timesteps from its start sample,
 * comparing every prev_sample; returns the worst mixed error and the tensors left behind.
 */
export function runLoop(
  scheduler: Scheduler,
  fixture: LoopFixture,
  entry: LoopCase,
  stepOptions: (t: number) => StepOptions = () => ({}),
): LoopReport {
  const start = toTensor(entry.sample0.includes('wide') ? fixture.sample0_wide_array : fixture.sample0_array);
  const before = tf.memory().numTensors;
  let sample = start;
  let worst = 0;
  let worstPredOriginalSum = 0;
  entry.steps.forEach((expected, i) => {
    const t = scheduler.timesteps[i];
    if (t !== expected.t) throw new Error(`step ${i}: timestep ${t}, expected ${expected.t}`);
    const output = dummyModel(sample, t);
    const { prevSample, predOriginalSample } = scheduler.step(output, t, sample, stepOptions(t));
    if (expected.pred_original_sample_stats) {
      const sum = Array.from(predOriginalSample.dataSync() as Float32Array).reduce((a, b) => a + b, 0);
      const reference = expected.pred_original_sample_stats.sum_float64;
      worstPredOriginalSum = Math.max(worstPredOriginalSum, Math.abs(sum - reference) / Math.max(1, Math.abs(reference)));
    }
    worst = Math.max(worst, maxMixedError(prevSample.dataSync(), float32Values(expected.prev_sample)));
    tf.dispose([output, predOriginalSample]);
    if (sample !== start) sample.dispose();
    sample = prevSample;
  });
  const leaked = tf.memory().numTensors - before - 1;
  tf.dispose([sample, start]);
  return { worst, worstPredOriginalSum, leaked };
}
