import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatConfigJson, parseJsonText } from '@diffusion-ts/core';
import { DDPMScheduler } from './ddpm.js';
import { FlowMatchEulerDiscreteScheduler } from './flow-match-euler.js';
import { compatibleSchedulers, schedulerFromConfig } from './registry.js';
import { dynamicShiftMu } from './sigmas.js';
import { describeSolverContract, describeSolverParity } from './testing/solver-suite.js';

const make = (config: Record<string, unknown>) => FlowMatchEulerDiscreteScheduler.fromConfig(config);

describeSolverParity('FlowMatchEulerDiscreteScheduler', make);
describeSolverContract({ className: 'FlowMatchEulerDiscreteScheduler', make, hasTimestepSpacing: false, scalesInput: false });
describeSolverContract({
  className: 'FlowMatchEulerDiscreteScheduler',
  make: (config) => make({ use_dynamic_shifting: true, ...config }),
  setTimestepsOptions: { mu: dynamicShiftMu(1024) },
  hasTimestepSpacing: false,
  scalesInput: false,
});

describe('FlowMatchEulerDiscreteScheduler', () => {
  it('needs mu with dynamic shifting, and checks custom schedules', () => {
    const dynamic = new FlowMatchEulerDiscreteScheduler({ useDynamicShifting: true });
    expect(() => dynamic.setTimesteps(10)).toThrow(/mu must be passed when useDynamicShifting is true/);
    expect(() => dynamic.setTimesteps(10, { mu: Number.NaN })).toThrow(/mu must be a finite number/);
    const scheduler = new FlowMatchEulerDiscreteScheduler({ shift: 3 });
    expect(() => scheduler.setTimesteps(4, { sigmas: [1, 0.5, 0.2] })).toThrow(/must agree in length/);
    expect(() => scheduler.setTimesteps(undefined, { sigmas: [1, 0.5], timesteps: [1000, 600, 200] })).toThrow(/must agree in length/);
    expect(() => scheduler.setTimesteps(undefined, { sigmas: [1.5, 0.5] })).toThrow(/sigmas must lie in \[0, 1\]/);
    expect(() => scheduler.setTimesteps(undefined, { sigmas: [0.5, 1] })).toThrow(/descending/);
    expect(() => scheduler.setTimesteps()).toThrow(/numInferenceSteps must be an integer/);
    expect(() => new FlowMatchEulerDiscreteScheduler({ shift: 0 })).toThrow(/'shift' must lie in \[0.001, 1000\], got 0/);
    expect(() => make({ time_shift_type: 'cubic' })).toThrow(/time_shift_type/);
    expect(() => new FlowMatchEulerDiscreteScheduler({ shiftTerminal: 1 })).toThrow(/shiftTerminal/);
  });

  it('is not interchangeable with the DDPM family, in either direction', () => {
    expect(FlowMatchEulerDiscreteScheduler.compatibles).toEqual(['FlowMatchEulerDiscreteScheduler']);
    expect(compatibleSchedulers('FlowMatchEulerDiscreteScheduler').map((c) => c.className)).toEqual(['FlowMatchEulerDiscreteScheduler']);
    expect(compatibleSchedulers('DDPMScheduler').map((c) => c.className)).not.toContain('FlowMatchEulerDiscreteScheduler');
    expect(() => FlowMatchEulerDiscreteScheduler.fromConfig(new DDPMScheduler().toConfig())).toThrow(ConfigError);
    expect(() => FlowMatchEulerDiscreteScheduler.fromConfig(new DDPMScheduler().toConfig())).toThrow(
      /cannot build from a config of 'DDPMScheduler'/,
    );
    const flowConfig = new FlowMatchEulerDiscreteScheduler({ shift: 3 }).toConfig();
    expect(() => DDPMScheduler.fromConfig(flowConfig)).toThrow(/cannot build from a config of 'FlowMatchEulerDiscreteScheduler'/);
  });

  it('round-trips its config through JSON text and the registry', () => {
    const scheduler = new FlowMatchEulerDiscreteScheduler({
      shift: 3,
      useDynamicShifting: true,
      timeShiftType: 'linear',
      shiftTerminal: 0.05,
      invertSigmas: true,
    });
    const again = schedulerFromConfig(parseJsonText(formatConfigJson(scheduler.toConfig()), 'test')) as FlowMatchEulerDiscreteScheduler;
    expect(again).toBeInstanceOf(FlowMatchEulerDiscreteScheduler);
    expect(again.config).toEqual(scheduler.config);
  });

  it('μ of the pipelines: base shift at 256 tokens, max shift at 4096', () => {
    expect(dynamicShiftMu(256)).toBeCloseTo(0.5, 12);
    expect(dynamicShiftMu(4096)).toBeCloseTo(1.15, 12);
  });

  it('addNoise is (1 - σ) x0 + σ noise at scheduled timesteps', () => {
    const scheduler = new FlowMatchEulerDiscreteScheduler({ shift: 3 });
    scheduler.setTimesteps(4);
    const x0 = tf.fill([2, 1, 1, 1], 2);
    const noise = tf.fill([2, 1, 1, 1], -1);
    const noisy = scheduler.addNoise(x0, noise, [scheduler.timesteps[0], scheduler.timesteps[2]]);
    const [a, b] = [scheduler.sigmas[0], scheduler.sigmas[2]];
    expect(Array.from(noisy.dataSync())).toEqual([Math.fround(2 * (1 - a) - a), Math.fround(Math.fround(2 * Math.fround(1 - b)) - b)]);
    tf.dispose([x0, noise, noisy]);
  });
});
