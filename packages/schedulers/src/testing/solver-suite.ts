/**
 * Test helper: the checks every sigma-based solver shares — Diffusers parity over the stored loops
 * of `solvers_loops.json` and `sigma_solvers_loops.json` on every backend, the config contract,
 * bad input, and tensor hygiene of a 50-step loop.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Generator, initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import type { Scheduler } from '../scheduler.js';
import { loadFixture } from './fixtures.js';
import { wave } from './inputs.js';
import { replaySolverLoop, type SolverCase, type SolverFixture, type SolverReport } from './solvers.js';

/** The fixture files of the sigma solvers. */
export const SOLVER_FILES = ['solvers_loops.json', 'sigma_solvers_loops.json'] as const;

const fixtures = new Map<string, SolverFixture>();

/** The stored loops of `className`: [name, file, case]. */
export function solverCases(className: string): [string, string, SolverCase][] {
  return SOLVER_FILES.flatMap((file) => {
    if (!fixtures.has(file)) fixtures.set(file, loadFixture<SolverFixture>(file));
    return fixtures
      .get(file)!
      .cases.filter((entry) => entry.scheduler === className)
      .map((entry) => [entry.name, file, entry] as [string, string, SolverCase]);
  });
}

/** A scheduler class under test: built from a Diffusers config or our options. */
export type MakeScheduler = (config: Record<string, unknown>) => Scheduler;

/**
 * For each backend, replays every stored loop of `className`: timesteps and sigmas within 1e-6
 * relative, every step within 1e-4 of max(1, |x|), the stored count of noise draws, no leaked
 * tensors. Prints the worst errors of each case.
 */
export function describeSolverParity(className: string, make: MakeScheduler): void {
  const cases = solverCases(className);
  describe.each(testBackendNames())(`${className} matches Diffusers on %s`, (backend) => {
    const reports = new Map<string, SolverReport>();
    beforeAll(async () => {
      await initBackend(backend);
    });
    afterAll(() => {
      for (const [name, r] of reports) {
        console.log(
          `[${backend}] ${name}: step ${r.prevSample.toExponential(2)}, x0 ${r.predOriginalSample.toExponential(2)}, timesteps ${r.timesteps.toExponential(2)}, sigmas ${r.sigmas.toExponential(2)}${r.addNoise ? `, addNoise ${r.addNoise.toExponential(2)}` : ''}`,
        );
      }
    });
    it.each(cases)('%s (%s)', (name, _file, entry) => {
      const report = replaySolverLoop(make(entry.scheduler_config), entry);
      reports.set(name, report);
      expect(report.timesteps).toBeLessThanOrEqual(1e-6);
      expect(report.sigmas).toBeLessThanOrEqual(1e-6);
      expect(report.initNoiseSigma).toBeLessThanOrEqual(1e-6);
      expect(report.prevSample).toBeLessThanOrEqual(1e-4);
      expect(report.predOriginalSample).toBeLessThanOrEqual(1e-4);
      expect(report.addNoise).toBeLessThanOrEqual(1e-5);
      expect(report.draws).toBe(entry.noise_draws?.length ?? 0);
      expect(report.leaked).toBe(0);
    });
  });
}

/** What `describeSolverContract` needs to know about the class. */
export interface SolverContract {
  className: string;
  make: MakeScheduler;
  /** Options for `setTimesteps` besides the step count (flow matching's μ). */
  setTimestepsOptions?: Record<string, unknown>;
  /** Whether the class reads `timestep_spacing` (flow matching has none). */
  hasTimestepSpacing?: boolean;
  /** Whether `scaleModelInput` depends on the timestep (LCM's and flow matching's are the identity). */
  scalesInput?: boolean;
}

/** Config, bad-input and memory checks every solver must pass. */
export function describeSolverContract(contract: SolverContract): void {
  const { className, make } = contract;
  const ready = (config: Record<string, unknown> = {}, steps = 10): Scheduler => {
    const scheduler = make(config);
    scheduler.setTimesteps(steps, contract.setTimestepsOptions);
    return scheduler;
  };
  const shape = [2, 4, 4, 3];

  describe(`${className} config and input checks`, () => {
    it('loads every resolved config Diffusers wrote without warnings, and writes its keys in order', () => {
      for (const [, , entry] of solverCases(className)) {
        if ('diffusers_config' in entry) continue; // built from our own (geometric) config
        const scheduler = make({ ...entry.resolved_config, _class_name: className });
        expect(scheduler.configWarnings).toEqual([]);
        const written = scheduler.toConfig();
        expect(Object.keys(written).slice(2)).toEqual(Object.keys(entry.resolved_config).filter((key) => !key.startsWith('_')));
        for (const [key, value] of Object.entries(entry.resolved_config))
          if (!key.startsWith('_')) expect([key, written[key]]).toEqual([key, value]);
      }
    });

    it('keeps unknown keys as warnings and through toConfig', () => {
      const scheduler = make({ not_a_key: 3 });
      expect(scheduler.configWarnings.join('\n')).toMatch(/not_a_key/);
      expect(scheduler.toConfig().not_a_key).toBe(3);
    });

    if (contract.hasTimestepSpacing !== false) {
      it('refuses an unknown timestep_spacing, naming the key', () => {
        expect(() => make({ timestep_spacing: 'middle' })).toThrow(ConfigError);
        expect(() => make({ timestep_spacing: 'middle' })).toThrow(/timestep_spacing/);
      });
    }
  });

  describe.each(testBackendNames())(`${className} input checks and memory on %s`, (backend) => {
    beforeAll(async () => {
      await initBackend(backend);
    });

    it('refuses step() before setTimesteps, an unscheduled timestep and NaN inputs', () => {
      const x = tf.tensor(Float32Array.from(wave(96, 0.3, 0.2)), shape);
      const nan = tf.fill(shape, NaN);
      const before = make({});
      expect(() => before.step(x, before.timesteps[0], x)).toThrow(/setTimesteps/);
      const scheduler = ready();
      const t = scheduler.timesteps[0];
      expect(() => scheduler.step(x, 12.345, x)).toThrow(/timestep 12\.345 is not in the schedule/);
      if (contract.scalesInput !== false)
        expect(() => scheduler.scaleModelInput(x, 12.345)).toThrow(/timestep 12\.345 is not in the schedule/);
      expect(() => scheduler.step(nan, t, x)).toThrow(/modelOutput contains NaN/);
      expect(() => scheduler.step(x, t, nan)).toThrow(/sample contains NaN/);
      expect(() => scheduler.step(x, Number.NaN, x)).toThrow(/timestep/);
      expect(() => scheduler.setTimesteps(0, contract.setTimestepsOptions)).toThrow(/numInferenceSteps/);
      expect(() => scheduler.setTimesteps(2.5, contract.setTimestepsOptions)).toThrow(/numInferenceSteps/);
      const wrong = tf.zeros([2, 4, 4, 2]);
      expect(() => scheduler.step(wrong, t, x)).toThrow(/shape/);
      tf.dispose([x, nan, wrong]);
      scheduler.dispose();
    });

    it('a 50-step loop leaves only its result, and replays exactly from the same seed', () => {
      const run = (): Float32Array => {
        const scheduler = ready({}, 50);
        const generator = new Generator(7);
        const start = tf.tidy(() => tf.mul(tf.tensor(Float32Array.from(wave(96, 0.41, 0.3)), shape), scheduler.initNoiseSigma));
        const before = tf.memory().numTensors;
        let sample = start;
        for (const t of scheduler.timesteps) {
          const current = sample;
          // Inside tidy, as pipelines call it: state the scheduler keeps must survive.
          sample = tf.tidy(() => scheduler.step(tf.mul(scheduler.scaleModelInput(current, t), 0.5), t, current, { generator }).prevSample);
          if (current !== start) current.dispose();
        }
        scheduler.dispose();
        expect(tf.memory().numTensors).toBe(before + 1);
        const values = sample.dataSync() as Float32Array;
        expect(values.every(Number.isFinite)).toBe(true);
        tf.dispose([sample, start]);
        return values;
      };
      expect(Array.from(run())).toEqual(Array.from(run()));
    });
  });
}
