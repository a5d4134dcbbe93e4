/**
 * `step()` time per call for every scheduler on [1,32,32,3] and [4,64,64,4], per backend.
 * Run with `pnpm bench` (vitest bench). DDPM gets its noise as a ready tensor (varianceNoise), so
 * the numbers are the scheduler's own cost; the input NaN check (one read-back) is included.
 */
import * as tf from '@tensorflow/tfjs-core';
import { bench, describe } from 'vitest';
import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import {
  DDIMScheduler,
  DDPMScheduler,
  DPMSolverMultistepScheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  FlowMatchEulerDiscreteScheduler,
  HeunDiscreteScheduler,
  LCMScheduler,
  PNDMScheduler,
  UniPCMultistepScheduler,
  type Scheduler,
} from '../src/index.js';

const shapes: number[][] = [
  [1, 32, 32, 3],
  [4, 64, 64, 4],
];

function stepper(make: () => Scheduler, shape: number[], steps = 1000) {
  let scheduler = make();
  let index = 0;
  let sample: tf.Tensor | null = null;
  let output: tf.Tensor | null = null;
  let noise: tf.Tensor | null = null;
  return {
    async setup(backend: string) {
      await initBackend(backend as never);
      scheduler = make();
      scheduler.setTimesteps(steps);
      index = 0;
      sample = tf.randomNormal(shape);
      output = tf.randomNormal(shape);
      noise = tf.randomNormal(shape);
    },
    run() {
      if (index === scheduler.timesteps.length) {
        scheduler.setTimesteps(steps);
        index = 0;
      }
      const t = scheduler.timesteps[index];
      index += 1;
      const { prevSample, predOriginalSample } = scheduler.step(output!, t, sample!, { varianceNoise: noise! });
      prevSample.dataSync();
      tf.dispose([prevSample, predOriginalSample]);
    },
    teardown() {
      scheduler.dispose();
      tf.dispose([sample!, output!, noise!]);
    },
  };
}

/** Name, factory and step count (the modern solvers: a run of their usual length at most). */
const schedulers: [string, () => Scheduler, number?][] = [
  ['DDPM', () => new DDPMScheduler()],
  ['DDIM', () => new DDIMScheduler()],
  ['PNDM', () => new PNDMScheduler({ skipPrkSteps: true })],
  ['DPM++ 2M', () => new DPMSolverMultistepScheduler(), 50],
  ['DPM++ 2M SDE Karras', () => new DPMSolverMultistepScheduler({ algorithmType: 'sde-dpmsolver++', useKarrasSigmas: true }), 50],
  ['DPM++ 3M', () => new DPMSolverMultistepScheduler({ solverOrder: 3 }), 50],
  ['UniPC', () => new UniPCMultistepScheduler(), 50],
  ['UniPC 3 bh1', () => new UniPCMultistepScheduler({ solverOrder: 3, solverType: 'bh1' }), 50],
  ['Euler', () => new EulerDiscreteScheduler(), 50],
  ['Euler Karras', () => new EulerDiscreteScheduler({ useKarrasSigmas: true }), 50],
  ['Euler ancestral', () => new EulerAncestralDiscreteScheduler(), 50],
  ['Heun', () => new HeunDiscreteScheduler(), 50],
  ['LCM', () => new LCMScheduler(), 8],
  ['Flow-matching Euler', () => new FlowMatchEulerDiscreteScheduler({ shift: 3 }), 50],
];

for (const backend of testBackendNames()) {
  for (const shape of shapes) {
    describe(`step() on ${backend}, [${shape.join(',')}]`, () => {
      for (const [name, make, steps] of schedulers) {
        const state = stepper(make, shape, steps);
        bench(`${name} ${backend} [${shape.join(',')}]`, () => state.run(), {
          time: 500,
          warmupTime: 100,
          setup: () => state.setup(backend),
          teardown: () => state.teardown(),
        });
      }
    });
  }
}
