import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, formatConfigJson, initBackend, parseJsonText } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import { DDPMScheduler } from './ddpm.js';
import { DPMSolverMultistepScheduler } from './dpm-solver-multistep.js';
import { schedulerFromConfig } from './registry.js';
import { UniPCMultistepScheduler } from './unipc-multistep.js';
import { recordError, worstErrors } from './testing/fixtures.js';
import { multistepCases, resolvedConfigMismatches, runMultistepLoop } from './testing/multistep-loop.js';

const { fixture, cases } = multistepCases('UniPCMultistepScheduler');

describe.each(testBackendNames())('UniPCMultistepScheduler on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => {
    for (const [key, value] of worstErrors)
      if (key.startsWith(`unipc-${backend}`))
        console.log(`[${backend}] ${key.slice(`unipc-${backend}-`.length)}: max error ${value.toExponential(2)}`);
  });

  it.each(cases)('%s (%s): timesteps, sigmas, addNoise and every step match Diffusers', (name, file, entry) => {
    const scheduler = UniPCMultistepScheduler.fromConfig(entry.scheduler_config);
    const report = runMultistepLoop(scheduler, fixture(file), entry);
    recordError(`unipc-${backend}-${name}`, report.worst);
    expect(report.sigmas).toBeLessThanOrEqual(1e-6);
    expect(report.addNoise).toBeLessThanOrEqual(1e-5);
    expect(report.leaked).toBe(0);
    expect(report.finite).toBe(true);
    expect(report.worst).toBeLessThanOrEqual(1e-4);
  });

  // Diffusers returns NaN at the last step of bh1 (any order) and of predict_x0 false whenever the
  // last σ is 0; ours takes the same first-order update's finite limit (checked against the
  // fixtures' `limit_prev_sample` above) at every step count.
  it.each([
    ['bh1', { solverType: 'bh1', solverOrder: 3 }],
    ['bh1 Karras', { solverType: 'bh1', solverOrder: 3, useKarrasSigmas: true }],
    ['noise prediction', { predictX0: false, solverOrder: 3 }],
    ['noise prediction, bh1', { predictX0: false, solverType: 'bh1', solverOrder: 2 }],
    [
      'order 3 without lowerOrderFinal, Karras onto σ_min (a zero-length last step)',
      { solverOrder: 3, lowerOrderFinal: false, useKarrasSigmas: true, finalSigmasType: 'sigma_min' },
    ],
  ] as const)('%s: finite at every step count from 1 to 30', (_, options) => {
    for (let steps = 1; steps <= 30; steps += 1) {
      const scheduler = new UniPCMultistepScheduler(options);
      scheduler.setTimesteps(steps);
      let x = tf.tensor(
        Float32Array.from({ length: 32 }, (_, k) => Math.sin(k + 1)),
        [2, 2, 2, 4],
      );
      for (const t of scheduler.timesteps) {
        const next = tf.tidy(() => scheduler.step(tf.mul(x, t / (t + 1)), t, x).prevSample);
        x.dispose();
        x = next;
      }
      expect(x.dataSync().every(Number.isFinite), `${steps} steps`).toBe(true);
      x.dispose();
    }
  });

  it('a 50-step loop leaves only its result, and a second loop restarts the run', () => {
    const scheduler = new UniPCMultistepScheduler({ solverOrder: 3, useKarrasSigmas: true });
    scheduler.setTimesteps(50);
    const before = tf.memory().numTensors;
    const results: Float32Array[] = [];
    for (let run = 0; run < 2; run += 1) {
      let x = tf.tensor(
        Float32Array.from({ length: 32 }, (_, k) => Math.cos(k)),
        [1, 4, 4, 2],
      );
      for (const t of scheduler.timesteps) {
        const next = tf.tidy(() => scheduler.step(tf.mul(x, 0.5), t, x).prevSample);
        x.dispose();
        x = next;
      }
      expect(tf.memory().numTensors).toBe(before + 1);
      results.push(x.dataSync() as Float32Array);
      x.dispose();
    }
    expect(Array.from(results[1])).toEqual(Array.from(results[0]));
  });

  it('refuses bad steps with errors naming the argument', () => {
    const scheduler = new UniPCMultistepScheduler();
    const x = tf.ones([1, 2, 2, 1]);
    const nan = tf.fill([1, 2, 2, 1], NaN);
    expect(() => scheduler.step(x, 999, x)).toThrow(/call setTimesteps\(n\) before step\(\)/);
    scheduler.setTimesteps(10);
    expect(() => scheduler.step(x, 998, x)).toThrow(/timestep 998 is not in the schedule/);
    expect(() => scheduler.step(nan, 999, x)).toThrow(/modelOutput contains NaN/);
    expect(() => scheduler.step(x, 999, nan)).toThrow(/sample contains NaN/);
    expect(() => scheduler.step(x, Number.NaN, x)).toThrow(/timestep must be a finite number/);
    tf.dispose([x, nan]);
  });
});

describe('UniPCMultistepScheduler config and schedule', () => {
  it('converts a DDPM config and back, through fromConfig / toConfig and JSON text, and swaps with DPM-Solver', () => {
    const ddpm = new DDPMScheduler({
      betaSchedule: 'scaled_linear',
      betaStart: 0.00085,
      betaEnd: 0.012,
      predictionType: 'v_prediction',
      stepsOffset: 1,
    });
    const unipc = UniPCMultistepScheduler.fromConfig(parseJsonText(formatConfigJson(ddpm.toConfig()), 'ddpm'));
    expect(unipc.config).toMatchObject({
      betaSchedule: 'scaled_linear',
      predictionType: 'v_prediction',
      stepsOffset: 1,
      solverType: 'bh2',
      disableCorrector: [],
    });
    const text = formatConfigJson(unipc.toConfig());
    expect(DDPMScheduler.fromConfig(parseJsonText(text, 'unipc')).config).toEqual(ddpm.config);
    expect(UniPCMultistepScheduler.fromConfig(parseJsonText(text, 'unipc')).config).toEqual(unipc.config);
    // DPM-Solver's midpoint / heun load as bh2 and UniPC's bh1 / bh2 as midpoint, as in Diffusers.
    const dpm = DPMSolverMultistepScheduler.fromConfig(new UniPCMultistepScheduler({ solverType: 'bh1' }).toConfig());
    expect(dpm.config.solverType).toBe('midpoint');
    expect(UniPCMultistepScheduler.fromConfig(new DPMSolverMultistepScheduler({ solverType: 'heun' }).toConfig()).config.solverType).toBe(
      'bh2',
    );
    expect(schedulerFromConfig(unipc.toConfig())).toBeInstanceOf(UniPCMultistepScheduler);
  });

  it('loads every resolved config Diffusers wrote, writing back the same values', () => {
    expect(resolvedConfigMismatches('UniPCMultistepScheduler', cases)).toEqual([]);
  });

  it.each([
    [{ solver_order: 4 }, /'solver_order' must lie in \[1, 3\], got 4/],
    [{ solver_order: 2.5 }, /'solver_order' must be an integer/],
    [{ solver_type: 'bh3' }, /'solver_type' has unknown value 'bh3'/],
    [{ timestep_spacing: 'even' }, /'timestep_spacing' has unknown value 'even'/],
    [{ disable_corrector: [0.5] }, /'disable_corrector' must be an array of integers/],
    [{ solver_p: { _class_name: 'DDIMScheduler' } }, /solverP .* is not supported/],
    [{ use_flow_sigmas: true }, /useFlowSigmas is not supported/],
    [{ use_karras_sigmas: true, use_beta_sigmas: true }, /only one of useKarrasSigmas/],
  ])('refuses %j', (config, message) => {
    expect(() => UniPCMultistepScheduler.fromConfig(config as never)).toThrow(ConfigError);
    expect(() => UniPCMultistepScheduler.fromConfig(config as never)).toThrow(message);
  });

  it('refuses a higher-order last step onto σ = 0 at setTimesteps (Diffusers returns NaN there)', () => {
    const scheduler = new UniPCMultistepScheduler({ solverOrder: 2, lowerOrderFinal: false });
    expect(() => scheduler.setTimesteps(10)).toThrow(/lowerOrderFinal true or finalSigmasType 'sigma_min'/);
    scheduler.setTimesteps(1);
    expect(() =>
      new UniPCMultistepScheduler({ solverOrder: 3, lowerOrderFinal: false, finalSigmasType: 'sigma_min' }).setTimesteps(10),
    ).not.toThrow();
    expect(() => scheduler.setTimesteps(10, { sigmas: [1, 0] })).toThrow(/custom sigmas are not supported/);
    expect(() => scheduler.setTimesteps(0)).toThrow(/numInferenceSteps must be an integer >= 1/);
  });
});
