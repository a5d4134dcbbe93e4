import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, formatConfigJson, initBackend, parseJsonText } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { DDPMScheduler } from './ddpm.js';
import { DPMSolverMultistepScheduler } from './dpm-solver-multistep.js';
import { schedulerFromConfig } from './registry.js';
import { recordError, worstErrors } from './testing/fixtures.js';
import { multistepCases, resolvedConfigMismatches, runMultistepLoop } from './testing/multistep-loop.js';

const { fixture, cases } = multistepCases('DPMSolverMultistepScheduler');

describe.each(testBackendNames())('DPMSolverMultistepScheduler on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => {
    for (const [key, value] of worstErrors)
      if (key.startsWith(`dpm-${backend}`))
        console.log(`[${backend}] ${key.slice(`dpm-${backend}-`.length)}: max error ${value.toExponential(2)}`);
  });

  it.each(cases)('%s (%s): timesteps, sigmas, addNoise and every step match Diffusers', (name, file, entry) => {
    const scheduler = DPMSolverMultistepScheduler.fromConfig(entry.scheduler_config);
    const report = runMultistepLoop(scheduler, fixture(file), entry);
    recordError(`dpm-${backend}-${name}`, report.worst);
    expect(report.sigmas).toBeLessThanOrEqual(1e-6);
    expect(report.addNoise).toBeLessThanOrEqual(1e-5);
    expect(report.leaked).toBe(0);
    expect(report.draws).toBe(entry.noise_draws?.length ?? 0);
    expect(report.worst).toBeLessThanOrEqual(1e-4);
    expect(scheduler.initNoiseSigma).toBe(1);
  });

  it('a 50-step SDE loop leaves only its result', () => {
    const scheduler = new DPMSolverMultistepScheduler({ algorithmType: 'sde-dpmsolver++', solverOrder: 3, useKarrasSigmas: true });
    scheduler.setTimesteps(50);
    let state = 7;
    const generator = {
      normal: (count: number) => Float32Array.from({ length: count }, () => ((state = (state * 48271) % 2147483647) / 2147483647) * 2 - 1),
    };
    const before = tf.memory().numTensors;
    let x = tf.randomNormal([1, 4, 4, 2]);
    for (const t of scheduler.timesteps) {
      const next = tf.tidy(() => scheduler.step(tf.mul(x, 0.5), t, x, { generator }).prevSample);
      x.dispose();
      x = next;
    }
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(x.dataSync().every(Number.isFinite)).toBe(true);
    x.dispose();
  });

  it("keeps x over a zero-length last step (Karras σ_min, then final σ_min), where Diffusers' heun / 3M give NaN", () => {
    for (const options of [
      { solverType: 'heun' },
      { solverOrder: 3, lowerOrderFinal: false },
      { algorithmType: 'sde-dpmsolver++', solverType: 'heun' },
    ] as const) {
      const scheduler = new DPMSolverMultistepScheduler({
        ...options,
        useKarrasSigmas: true,
        finalSigmasType: 'sigma_min',
        betaSchedule: 'scaled_linear',
        betaStart: 0.00085,
        betaEnd: 0.012,
      });
      scheduler.setTimesteps(20);
      expect(scheduler.sigmas[20]).toBe(scheduler.sigmas[19]);
      const generator = { normal: (count: number) => new Float32Array(count).fill(0.3) };
      let x = tf.tensor(
        Float32Array.from({ length: 16 }, (_, k) => Math.sin(k)),
        [1, 2, 2, 4],
      );
      let before: Float32Array = new Float32Array(0);
      for (const t of scheduler.timesteps) {
        before = x.dataSync() as Float32Array;
        const next = tf.tidy(() => scheduler.step(tf.mul(x, 0.5), t, x, { generator }).prevSample);
        x.dispose();
        x = next;
      }
      expect(Array.from(x.dataSync())).toEqual(Array.from(before));
      x.dispose();
    }
  });

  it('refuses bad steps with errors naming the argument', () => {
    const scheduler = new DPMSolverMultistepScheduler();
    const x = tf.ones([1, 2, 2, 1]);
    const nan = tf.fill([1, 2, 2, 1], NaN);
    expect(() => scheduler.step(x, 999, x)).toThrow(/call setTimesteps\(n\) before step\(\)/);
    scheduler.setTimesteps(10);
    expect(() => scheduler.step(x, 5, x)).toThrow(/timestep 5 is not in the schedule/);
    expect(() => scheduler.step(nan, 999, x)).toThrow(/modelOutput contains NaN/);
    expect(() => scheduler.step(x, 999, nan)).toThrow(/sample contains NaN/);
    const sde = new DPMSolverMultistepScheduler({ algorithmType: 'sde-dpmsolver++' });
    sde.setTimesteps(10);
    expect(() => sde.step(x, 999, x, { varianceNoise: nan })).toThrow(/varianceNoise contains NaN/);
    const wide = tf.ones([1, 2, 2, 2]);
    expect(() => sde.step(x, 999, x, { varianceNoise: wide })).toThrow(/varianceNoise shape \[1, 2, 2, 2\] does not match sample/);
    expect(() => scheduler.step(wide, 999, x)).toThrow(/modelOutput shape/);
    tf.dispose([x, nan, wide]);
  });
});

describe('DPMSolverMultistepScheduler config and schedule', () => {
  it('converts a DDPM config and back, through fromConfig / toConfig and JSON text', () => {
    const ddpm = new DDPMScheduler({
      betaSchedule: 'scaled_linear',
      betaStart: 0.00085,
      betaEnd: 0.012,
      predictionType: 'v_prediction',
      stepsOffset: 1,
      timestepSpacing: 'trailing',
    });
    const dpm = DPMSolverMultistepScheduler.fromConfig(parseJsonText(formatConfigJson(ddpm.toConfig()), 'ddpm'));
    expect(dpm.config).toMatchObject({
      betaSchedule: 'scaled_linear',
      predictionType: 'v_prediction',
      stepsOffset: 1,
      timestepSpacing: 'trailing',
      solverOrder: 2,
    });
    expect(Array.from(dpm.alphasCumprod)).toEqual(Array.from(ddpm.alphasCumprod));
    const text = formatConfigJson(new DPMSolverMultistepScheduler(dpm.toConfig()).toConfig());
    const back = DDPMScheduler.fromConfig(parseJsonText(text, 'dpm'));
    expect(back.config).toEqual(ddpm.config);
    const again = DPMSolverMultistepScheduler.fromConfig(parseJsonText(text, 'dpm'));
    expect(again.config).toEqual(dpm.config);
    expect(again.config.lambdaMinClipped).toBe(-Infinity);
    // Written as Python's json writes it, and read back from Diffusers' own spelling.
    expect(text).toContain('"lambda_min_clipped": -Infinity,');
    const python = DPMSolverMultistepScheduler.fromConfig(
      parseJsonText('{"lambda_min_clipped": -Infinity, "solver_order": 3}', 'diffusers'),
    );
    expect(python.config).toMatchObject({ lambdaMinClipped: -Infinity, solverOrder: 3 });
    expect(schedulerFromConfig(dpm.toConfig())).toBeInstanceOf(DPMSolverMultistepScheduler);
  });

  it('loads every resolved config Diffusers wrote, writing back the same values', () => {
    expect(resolvedConfigMismatches('DPMSolverMultistepScheduler', cases)).toEqual([]);
  });

  it("takes Diffusers' aliases and keeps unknown keys as warnings", () => {
    const scheduler = new DPMSolverMultistepScheduler({
      algorithm_type: 'deis',
      solver_type: 'bh2',
      lambda_min_clipped: '-inf',
      foo: 1,
    } as never);
    expect(scheduler.config).toMatchObject({ algorithmType: 'dpmsolver++', solverType: 'midpoint', lambdaMinClipped: -Infinity });
    expect(scheduler.configWarnings.join()).toMatch(/'foo'/);
    expect(scheduler.toConfig().foo).toBe(1);
  });

  it.each([
    [{ solver_order: 0 }, /'solver_order' must lie in \[1, 3\], got 0/],
    [{ solver_order: 4 }, /'solver_order' must lie in \[1, 3\], got 4/],
    [{ algorithm_type: 'dpm' }, /'algorithm_type' has unknown value 'dpm'/],
    [{ solver_type: 'rk4' }, /'solver_type' has unknown value 'rk4'/],
    [{ timestep_spacing: 'even' }, /'timestep_spacing' has unknown value 'even'/],
    [{ final_sigmas_type: 'one' }, /'final_sigmas_type' has unknown value 'one'/],
    [{ algorithm_type: 'dpmsolver' }, /finalSigmasType 'zero' is not supported for algorithmType 'dpmsolver'/],
    [{ algorithm_type: 'sde-dpmsolver', solver_order: 3, final_sigmas_type: 'sigma_min' }, /no third-order update/],
    [{ use_karras_sigmas: true, use_exponential_sigmas: true }, /only one of useKarrasSigmas, useExponentialSigmas/],
    [{ use_flow_sigmas: true }, /useFlowSigmas is not supported/],
    [{ lambda_min_clipped: 'low' }, /lambdaMinClipped must be a number/],
    [{ lambda_min_clipped: 5 }, /lambdaMinClipped 5 is above the λ of every training timestep/],
    [{ prediction_type: 'flow_prediction' }, /'prediction_type' has unknown value 'flow_prediction'/],
    [{ beta_schedule: 'laplace' }, /betaSchedule 'laplace' is not implemented/],
  ])('refuses %j', (config, message) => {
    expect(() => DPMSolverMultistepScheduler.fromConfig(config as never)).toThrow(ConfigError);
    expect(() => DPMSolverMultistepScheduler.fromConfig(config as never)).toThrow(message);
  });

  it('setTimesteps checks its arguments', () => {
    const scheduler = new DPMSolverMultistepScheduler();
    expect(() => scheduler.setTimesteps(0)).toThrow(/numInferenceSteps must be an integer >= 1/);
    expect(() => scheduler.setTimesteps(10, { timesteps: [900, 500] })).toThrow(/either numInferenceSteps or custom/);
    expect(() => scheduler.setTimesteps(undefined, { timesteps: [500, 900] })).toThrow(/descending/);
    expect(() => scheduler.setTimesteps(undefined, { timesteps: [999, 500.5] })).toThrow(/timesteps\[1\] = 500.5 is not an integer/);
    expect(() => scheduler.setTimesteps(10, { sigmas: [1, 0] })).toThrow(/custom sigmas are not supported/);
    expect(() => new DPMSolverMultistepScheduler({ useKarrasSigmas: true }).setTimesteps(undefined, { timesteps: [999, 10] })).toThrow(
      /cannot be used with useKarrasSigmas/,
    );
    scheduler.setTimesteps(undefined, { timesteps: [999, 10] });
    expect(scheduler.timesteps).toEqual([999, 10]);
    expect(scheduler.numInferenceSteps).toBe(2);
    // A clip that leaves fewer training timesteps than steps.
    const clipped = new DPMSolverMultistepScheduler({ betaSchedule: 'squaredcos_cap_v2', lambdaMinClipped: 4 });
    expect(() => clipped.setTimesteps(1000)).toThrow(
      /lambdaMinClipped 4 keeps \d+ training timesteps, fewer than numInferenceSteps \(1000\)/,
    );
  });

  it('multistep spacing: linspace / leading / trailing as Diffusers prints them (n + 1 points, the 0 dropped)', () => {
    const spaced = (timestepSpacing: 'linspace' | 'leading' | 'trailing', stepsOffset = 0) => {
      const scheduler = new DPMSolverMultistepScheduler({ timestepSpacing, stepsOffset });
      scheduler.setTimesteps(7);
      return scheduler.timesteps;
    };
    expect(spaced('linspace')).toEqual([999, 856, 714, 571, 428, 285, 143]);
    expect(spaced('leading', 1)).toEqual([876, 751, 626, 501, 376, 251, 126]);
    expect(spaced('trailing')).toEqual([999, 856, 713, 570, 428, 285, 142]);
  });
});
