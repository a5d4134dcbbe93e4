import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { LCMScheduler, lcmScalings } from './lcm.js';
import { describeSolverContract, describeSolverParity } from './testing/solver-suite.js';

const make = (config: Record<string, unknown>) => LCMScheduler.fromConfig(config);

describeSolverParity('LCMScheduler', make);
describeSolverContract({ className: 'LCMScheduler', make, scalesInput: false });

describe('LCMScheduler schedule', () => {
  it('spreads the steps over the distillation schedule from its end', () => {
    const scheduler = new LCMScheduler();
    scheduler.setTimesteps(4);
    expect(scheduler.timesteps).toEqual([999, 759, 499, 259]);
    scheduler.setTimesteps(1);
    expect(scheduler.timesteps).toEqual([999]);
  });

  it('satisfies the boundary condition f(x, 0) = x', () => {
    expect(lcmScalings(0, 10)).toEqual({ cSkip: 1, cOut: 0 });
    const { cSkip, cOut } = lcmScalings(999, 10);
    expect(cSkip).toBeLessThan(1e-7);
    expect(cOut).toBeCloseTo(1, 7);
  });

  it('refuses impossible step counts and bad arguments, naming them', () => {
    const scheduler = new LCMScheduler();
    expect(() => scheduler.setTimesteps(51)).toThrow(/numInferenceSteps \(51\) cannot exceed originalInferenceSteps/);
    expect(() => scheduler.setTimesteps(8, { originalInferenceSteps: 4 })).toThrow(/cannot exceed originalInferenceSteps × strength/);
    expect(() => scheduler.setTimesteps(4, { originalInferenceSteps: 2000 })).toThrow(
      /originalInferenceSteps must be an integer in \[1, 1000\]/,
    );
    expect(() => scheduler.setTimesteps(4, { strength: 0 })).toThrow(/strength must lie in \(0, 1\]/);
    expect(() => scheduler.setTimesteps(undefined, { timesteps: [999, 999] })).toThrow(/descending/);
    expect(() => scheduler.setTimesteps(undefined, { timesteps: [1000, 500] })).toThrow(/integers in \[0, 1000\)/);
    expect(() => scheduler.setTimesteps(undefined, { timesteps: [999, 500.5] })).toThrow(/integers/);
    expect(() => new LCMScheduler({ originalInferenceSteps: 0 })).toThrow(/originalInferenceSteps/);
    expect(() => make({ original_inference_steps: 2.5 })).toThrow(/original_inference_steps/);
  });

  it('returns the consistency output f(x, t) as predOriginalSample, equal to prevSample at the last step', () => {
    const scheduler = new LCMScheduler();
    scheduler.setTimesteps(2);
    const x = tf.ones([1, 2, 2, 1]);
    const t = scheduler.timesteps[1];
    scheduler.step(x, scheduler.timesteps[0], x, { varianceNoise: x }).prevSample.dispose();
    const last = scheduler.step(x, t, x);
    expect(Array.from(last.prevSample.dataSync())).toEqual(Array.from(last.predOriginalSample.dataSync()));
    tf.dispose([x, last.prevSample, last.predOriginalSample]);
  });
});
