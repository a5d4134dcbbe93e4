import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@diffusion-ts/core';
import { EulerDiscreteScheduler } from './euler.js';
import { wave } from './testing/inputs.js';
import { describeSolverContract, describeSolverParity } from './testing/solver-suite.js';

const make = (config: Record<string, unknown>) => EulerDiscreteScheduler.fromConfig(config);

describeSolverParity('EulerDiscreteScheduler', make);
describeSolverContract({ className: 'EulerDiscreteScheduler', make });

describe('EulerDiscreteScheduler options', () => {
  it('refuses unknown interpolation_type / final_sigmas_type / timestep_type and two σ spacings, naming them', () => {
    expect(() => make({ interpolation_type: 'cubic' })).toThrow(/interpolation_type/);
    expect(() => make({ final_sigmas_type: 'one' })).toThrow(/final_sigmas_type/);
    expect(() => make({ timestep_type: 'random' })).toThrow(ConfigError);
    expect(() => make({ use_karras_sigmas: true, use_beta_sigmas: true })).toThrow(
      /only one of useKarrasSigmas, useExponentialSigmas, useBetaSigmas/,
    );
    expect(() => make({ beta_schedule: 'sigmoid' })).toThrow(/beta_schedule|betaSchedule 'sigmoid'/);
  });

  it('checks custom schedules as Diffusers does', () => {
    const scheduler = new EulerDiscreteScheduler();
    expect(() => scheduler.setTimesteps(10, { timesteps: [900, 500] })).toThrow(/either numInferenceSteps or custom/);
    expect(() => scheduler.setTimesteps(undefined, { timesteps: [900, 500], sigmas: [3, 1, 0] })).toThrow(/either timesteps or sigmas/);
    expect(() => scheduler.setTimesteps(undefined, { timesteps: [500, 900] })).toThrow(/descending/);
    expect(() => scheduler.setTimesteps(undefined, { sigmas: [3, Number.NaN, 0] })).toThrow(/sigmas\[1\] must be a finite number/);
    expect(() => scheduler.setTimesteps(undefined, { sigmas: [3] })).toThrow(/at least 2/);
    expect(() => scheduler.setTimesteps(undefined, { mu: 1 })).toThrow(/custom mu are not supported/);
    expect(() => scheduler.setTimesteps()).toThrow(/numInferenceSteps must be given/);
    const karras = new EulerDiscreteScheduler({ useKarrasSigmas: true });
    expect(() => karras.setTimesteps(undefined, { timesteps: [900, 500] })).toThrow(/useKarrasSigmas/);
    scheduler.setTimesteps(undefined, { sigmas: [10, 5, 1, 0.2] });
    expect(scheduler.numInferenceSteps).toBe(3);
    expect(scheduler.timesteps).toHaveLength(3);
    expect(Array.from(scheduler.sigmas)).toEqual([10, 5, 1, Math.fround(0.2)]);
  });

  it('churn draws one normal(count) per churned step only, and validates its options', () => {
    const scheduler = new EulerDiscreteScheduler({ timestepSpacing: 'trailing' });
    scheduler.setTimesteps(5);
    const counts: number[] = [];
    const generator = { normal: (count: number) => (counts.push(count), new Float32Array(count).fill(0.5)) };
    const x = tf.tensor(Float32Array.from(wave(24, 0.3, 0.1)), [2, 2, 2, 3]);
    for (const t of scheduler.timesteps) {
      const { prevSample, predOriginalSample } = scheduler.step(x, t, x, { generator, sChurn: 2, sTmin: 1, sTmax: 50 });
      tf.dispose([prevSample, predOriginalSample]);
    }
    const churned = Array.from(scheduler.sigmas.subarray(0, -1)).filter((sigma) => sigma >= 1 && sigma <= 50).length;
    expect(counts).toEqual(Array(churned).fill(24));
    expect(() => scheduler.step(x, scheduler.timesteps[0], x, { sChurn: -1 })).toThrow(/sChurn must be >= 0/);
    expect(() => scheduler.step(x, scheduler.timesteps[0], x, { sNoise: Number.NaN })).toThrow(/sNoise/);
    x.dispose();
  });

  it("exposes Diffusers' state before setTimesteps: every training timestep, σ, and initNoiseSigma", () => {
    const scheduler = new EulerDiscreteScheduler({
      betaSchedule: 'scaled_linear',
      betaStart: 0.00085,
      betaEnd: 0.012,
      timestepSpacing: 'leading',
    });
    expect(scheduler.timesteps).toHaveLength(1000);
    expect(scheduler.sigmas).toHaveLength(1001);
    expect(scheduler.sigmas[1000]).toBe(0);
    expect(scheduler.initNoiseSigma).toBeCloseTo(Math.sqrt(scheduler.sigmas[0] ** 2 + 1), 5);
    expect(scheduler.order).toBe(1);
  });

  it("steps from the schedule's own position when restarted, and addNoise refuses unscheduled timesteps", () => {
    const scheduler = new EulerDiscreteScheduler();
    scheduler.setTimesteps(4);
    const x = tf.ones([1, 2, 2, 1]);
    const noise = tf.ones([1, 2, 2, 1]);
    const [t0, t1] = scheduler.timesteps;
    const first = scheduler.step(x, t0, x);
    const restarted = scheduler.step(x, t0, x);
    expect(Array.from(restarted.prevSample.dataSync())).toEqual(Array.from(first.prevSample.dataSync()));
    const noisy = scheduler.addNoise(x, noise, t1);
    expect(noisy.dataSync()[0]).toBeCloseTo(1 + scheduler.sigmas[1], 4);
    expect(() => scheduler.addNoise(x, noise, 17)).toThrow(/timestep 17 is not in the schedule/);
    tf.dispose([x, noise, noisy, first.prevSample, first.predOriginalSample, restarted.prevSample, restarted.predOriginalSample]);
  });
});
