import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral.js';
import { wave } from './testing/inputs.js';
import { describeSolverContract, describeSolverParity } from './testing/solver-suite.js';

const make = (config: Record<string, unknown>) => EulerAncestralDiscreteScheduler.fromConfig(config);

describeSolverParity('EulerAncestralDiscreteScheduler', make);
describeSolverContract({ className: 'EulerAncestralDiscreteScheduler', make });

describe('EulerAncestralDiscreteScheduler noise', () => {
  const x = () => tf.tensor(Float32Array.from(wave(24, 0.3, 0.1)), [2, 2, 2, 3]);

  it('draws one normal(count) at every step, the last one too', () => {
    const scheduler = new EulerAncestralDiscreteScheduler();
    scheduler.setTimesteps(4);
    const counts: number[] = [];
    const generator = { normal: (count: number) => (counts.push(count), new Float32Array(count).fill(0.25)) };
    const sample = x();
    for (const t of scheduler.timesteps) tf.dispose(Object.values(scheduler.step(sample, t, sample, { generator })));
    expect(counts).toEqual([24, 24, 24, 24]);
    sample.dispose();
  });

  it('takes explicit varianceNoise instead (not both)', () => {
    const scheduler = new EulerAncestralDiscreteScheduler();
    scheduler.setTimesteps(4);
    const sample = x();
    const zeros = tf.zerosLike(sample);
    const t = scheduler.timesteps[1];
    scheduler.setTimesteps(4);
    const withZeros = scheduler.step(sample, t, sample, { varianceNoise: zeros });
    const generator = { normal: (count: number) => new Float32Array(count) };
    const withGenerator = scheduler.step(sample, t, sample, { generator });
    expect(Array.from(withZeros.prevSample.dataSync())).toEqual(Array.from(withGenerator.prevSample.dataSync()));
    expect(() => scheduler.step(sample, t, sample, { varianceNoise: zeros, generator })).toThrow(/either generator or varianceNoise/);
    tf.dispose([sample, zeros, ...Object.values(withZeros), ...Object.values(withGenerator)]);
  });

  it('refuses custom schedules (Diffusers takes only numInferenceSteps)', () => {
    expect(() => new EulerAncestralDiscreteScheduler().setTimesteps(undefined, { timesteps: [900, 100] })).toThrow(
      /custom timesteps are not supported/,
    );
  });
});
