import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { HeunDiscreteScheduler } from './heun.js';
import { wave } from './testing/inputs.js';
import { describeSolverContract, describeSolverParity } from './testing/solver-suite.js';

const make = (config: Record<string, unknown>) => HeunDiscreteScheduler.fromConfig(config);

describeSolverParity('HeunDiscreteScheduler', make);
describeSolverContract({ className: 'HeunDiscreteScheduler', make });

describe('HeunDiscreteScheduler state', () => {
  it('doubles every timestep after the first and alternates first- and second-order steps', () => {
    const scheduler = new HeunDiscreteScheduler({ betaSchedule: 'linear', betaStart: 0.0001, betaEnd: 0.02 });
    scheduler.setTimesteps(4);
    expect(scheduler.timesteps).toEqual([999, 666, 666, 333, 333, 0, 0]);
    expect(scheduler.sigmas).toHaveLength(8);
    expect(scheduler.order).toBe(2);
    const x = tf.tensor(Float32Array.from(wave(24, 0.3, 0.1)), [2, 2, 2, 3]);
    const states: boolean[] = [];
    let sample = tf.clone(x);
    const before = tf.memory().numTensors;
    for (const t of scheduler.timesteps) {
      states.push(scheduler.stateInFirstOrder);
      const { prevSample, predOriginalSample } = scheduler.step(x, t, sample);
      tf.dispose([sample, predOriginalSample]);
      sample = prevSample;
    }
    expect(states).toEqual([true, false, true, false, true, false, true]);
    expect(scheduler.stateInFirstOrder).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, sample]);
  });

  it('setTimesteps and dispose() free a half-finished step', () => {
    const scheduler = new HeunDiscreteScheduler();
    scheduler.setTimesteps(5);
    const x = tf.ones([1, 2, 2, 1]);
    const before = tf.memory().numTensors;
    tf.dispose(Object.values(scheduler.step(x, scheduler.timesteps[0], x)));
    expect(scheduler.stateInFirstOrder).toBe(false);
    expect(tf.memory().numTensors).toBe(before + 2);
    scheduler.setTimesteps(5);
    expect(scheduler.stateInFirstOrder).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(scheduler.step(x, scheduler.timesteps[0], x)));
    scheduler.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('refuses custom timesteps with Karras sigmas, and a non-positive clipSampleRange', () => {
    expect(() => new HeunDiscreteScheduler({ useKarrasSigmas: true }).setTimesteps(undefined, { timesteps: [900, 100] })).toThrow(
      /useKarrasSigmas/,
    );
    expect(() => new HeunDiscreteScheduler().setTimesteps(undefined, { sigmas: [3, 1, 0] })).toThrow(/custom sigmas are not supported/);
    expect(() => new HeunDiscreteScheduler({ clipSampleRange: 0 })).toThrow(/clipSampleRange/);
  });
});
