import { describe, expect, it } from 'vitest';
import { ConfigError, formatConfigJson, parseJsonText, type ConfigJson, type ConfigValue } from '@diffusion-ts/core';
import { DDIMScheduler } from './ddim.js';
import { DDPMScheduler } from './ddpm.js';
import { MAX_TRAIN_TIMESTEPS } from './discrete-scheduler.js';
import { PNDMScheduler } from './pndm.js';
import { SCHEDULERS, schedulerFromConfig, type SchedulerClass } from './registry.js';

/** The ConfigError `build` throws (fails the test when it does not throw one). */
function configError(build: () => unknown): ConfigError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const CLASSES = Object.values(SCHEDULERS);

describe('scheduler configs: every numeric key checked for type, sign and range', () => {
  it.each([
    [{ beta_start: 2 }, 'beta_start', "'beta_start' must lie in (0, 1), got 2"],
    [{ beta_start: -1 }, 'beta_start', "'beta_start' must lie in (0, 1), got -1"],
    [{ beta_start: 0 }, 'beta_start', "'beta_start' must lie in (0, 1), got 0"],
    [{ beta_end: 1.5 }, 'beta_end', "'beta_end' must lie in (0, 1), got 1.5"],
    [{ beta_end: 1 }, 'beta_end', "'beta_end' must lie in (0, 1), got 1"],
    [{ num_train_timesteps: 4, trained_betas: [0.1, 0.2, 1.2, 0.3] }, 'trained_betas', "'trained_betas' must hold values in (0, 1), got 1.2 at index 2"],
    [{ num_train_timesteps: 3, trained_betas: [0, 0.2, 0.3] }, 'trained_betas', "'trained_betas' must hold values in (0, 1), got 0 at index 0"],
    [{ num_train_timesteps: 3, trained_betas: [0.1, -0.2, 0.3] }, 'trained_betas', 'got -0.2 at index 1'],
    [{ num_train_timesteps: 1e8 }, 'num_train_timesteps', `'num_train_timesteps' must lie in [1, ${MAX_TRAIN_TIMESTEPS}], got 100000000`],
    [{ num_train_timesteps: 0 }, 'num_train_timesteps', "'num_train_timesteps' must lie in [1, 1000000], got 0"],
    [{ num_train_timesteps: -3 }, 'num_train_timesteps', 'got -3'],
    [{ num_train_timesteps: 10.5 }, 'num_train_timesteps', "'num_train_timesteps' must be an integer"],
    [{ num_train_timesteps: '1000' }, 'num_train_timesteps', "'num_train_timesteps' must be an integer, got a string"],
    [{ steps_offset: -5 }, 'steps_offset', "'steps_offset' must be >= 0, got -5"],
    [{ steps_offset: 1e6 }, 'steps_offset', "'steps_offset' must lie in [0, num_train_timesteps) = [0, 1000), got 1000000"],
    [{ num_train_timesteps: 10, steps_offset: 10 }, 'steps_offset', '= [0, 10), got 10'],
    [{ beta_start: null }, 'beta_start', "'beta_start' must not be null"],
    [{ beta_end: 'big' }, 'beta_end', "'beta_end' must be a number"],
  ] as const)('%j is refused, naming %s', (config, key, message) => {
    for (const Scheduler of CLASSES) {
      const error = configError(() => Scheduler.fromConfig(config as unknown as ConfigJson));
      expect(error.key).toBe(key);
      expect(error.message).toContain(message);
      expect(error.message).toMatch(new RegExp(`^${Scheduler.className}: `));
    }
  });

  it.each([
    [{ clip_sample_range: -1 }, 'clip_sample_range', "'clip_sample_range' must be > 0, got -1"],
    [{ clip_sample_range: 0 }, 'clip_sample_range', "'clip_sample_range' must be > 0, got 0"],
    [{ sample_max_value: 0 }, 'sample_max_value', "'sample_max_value' must be > 0, got 0"],
    [{ sample_max_value: -2 }, 'sample_max_value', "'sample_max_value' must be > 0, got -2"],
    [{ dynamic_thresholding_ratio: 0 }, 'dynamic_thresholding_ratio', "'dynamic_thresholding_ratio' must lie in (0, 1], got 0"],
    [{ dynamic_thresholding_ratio: 1.5 }, 'dynamic_thresholding_ratio', "'dynamic_thresholding_ratio' must lie in (0, 1], got 1.5"],
  ] as const)('DDPM and DDIM: %j is refused, naming %s', (config, key, message) => {
    for (const Scheduler of [DDPMScheduler, DDIMScheduler] as SchedulerClass[]) {
      const error = configError(() => Scheduler.fromConfig(config));
      expect(error.key).toBe(key);
      expect(error.message).toContain(message);
    }
  });

  it('names the camelCase option when given options', () => {
    expect(configError(() => new DDPMScheduler({ betaStart: 2 })).message).toContain("'betaStart' must lie in (0, 1), got 2");
    expect(configError(() => new DDIMScheduler({ stepsOffset: 1000 })).key).toBe('steps_offset');
    expect(configError(() => new PNDMScheduler({ numTrainTimesteps: 0 })).key).toBe('numTrainTimesteps');
    expect(configError(() => new DDPMScheduler({ trainedBetas: new Float64Array([0.1, 2]) as never, numTrainTimesteps: 2 })).key).toBe('trainedBetas');
  });

  it('refuses trained betas that float32 rounds to 1, naming trained_betas', () => {
    const error = configError(() => DDPMScheduler.fromConfig({ num_train_timesteps: 2, trained_betas: [0.5, 0.99999999] }));
    expect(error.key).toBe('trained_betas');
    expect(error.message).toContain('betas must lie in (0, 1), but trained_betas (as float32) gives betas[1] = 1');
  });

  it('refuses a leading schedule that steps_offset pushes past the last training timestep', () => {
    const scheduler = DDIMScheduler.fromConfig({ steps_offset: 1 });
    scheduler.setTimesteps(50);
    expect(Math.max(...scheduler.timesteps)).toBe(981);
    expect(() => scheduler.setTimesteps(1000)).toThrow(
      "DDIMScheduler: 1000 steps with stepsOffset 1 ('leading' spacing) reach timestep 1000, beyond numTrainTimesteps - 1 = 999",
    );
    const pndm = PNDMScheduler.fromConfig({ steps_offset: 999, skip_prk_steps: true });
    pndm.setTimesteps(1);
    expect(pndm.timesteps).toEqual([999]);
    expect(() => pndm.setTimesteps(2)).toThrow(/PNDMScheduler: 2 steps with stepsOffset 999/);
    expect(() => DDPMScheduler.fromConfig({ steps_offset: 5, timestep_spacing: 'trailing' }).setTimesteps(1000)).not.toThrow();
  });

  it('accepts the edges of every range, with finite alphasCumprod', () => {
    const accepted: ConfigJson[] = [
      { num_train_timesteps: 1 },
      { num_train_timesteps: 10, steps_offset: 9 },
      { beta_start: 1e-12, beta_end: 0.999999 },
      { beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.9 },
      { beta_schedule: 'squaredcos_cap_v2', num_train_timesteps: 4000 },
      { num_train_timesteps: 3, trained_betas: [1e-6, 0.5, 0.999] },
    ];
    for (const config of accepted) {
      for (const Scheduler of CLASSES) {
        const scheduler = Scheduler.fromConfig(config);
        for (const beta of scheduler.betas) expect(beta > 0 && beta < 1).toBe(true);
        for (const alphaBar of scheduler.alphasCumprod) expect(alphaBar >= 0 && alphaBar <= 1).toBe(true);
      }
    }
    const ratio = DDPMScheduler.fromConfig({ dynamic_thresholding_ratio: 1, clip_sample_range: 1e-3, sample_max_value: 1e-3 });
    expect(ratio.config.dynamicThresholdingRatio).toBe(1);
    // Zero terminal SNR makes the last beta exactly 1 after the rescale; that is Diffusers' intent.
    const zeroSnr = DDIMScheduler.fromConfig({ rescale_betas_zero_snr: true });
    expect(zeroSnr.betas[999]).toBe(1);
    expect(zeroSnr.alphasCumprod[999]).toBe(0);
  });

  it('a fuzz of 1,000 mutated scheduler_config.json: each a ConfigError or a scheduler with a sound schedule', () => {
    const hostile: ConfigValue[] = [
      0, -1, 1, 2, 0.5, 1.5, -0.0001, 1e-300, 1e8, 1e300, 999, 1000, 1000.5, MAX_TRAIN_TIMESTEPS + 1,
      '1', '', 'linear', 'v_prediction', 'leading', true, false, null, [], [0.1, 0.2], [2, 0.1], {}, { nested: [[[1]]] },
    ];
    const base: ConfigJson = {
      _class_name: 'DDPMScheduler', num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear',
      trained_betas: null, variance_type: 'fixed_small', clip_sample: false, prediction_type: 'epsilon', thresholding: false,
      dynamic_thresholding_ratio: 0.995, clip_sample_range: 1, sample_max_value: 1, timestep_spacing: 'leading', steps_offset: 1,
      set_alpha_to_one: false, skip_prk_steps: true, rescale_betas_zero_snr: false,
    };
    const keys = Object.keys(base).filter((key) => key !== '_class_name');
    const classNames = ['DDPMScheduler', 'DDIMScheduler', 'PNDMScheduler'];
    // A fixed linear congruential sequence: the same 1,000 configs every run.
    let state = 12345;
    const next = (count: number): number => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % count;
    };
    const outcomes = { refused: 0, built: 0 };
    for (let run = 0; run < 1000; run += 1) {
      const config: ConfigJson = { ...base, _class_name: classNames[next(3)] };
      for (let edits = 1 + next(3); edits > 0; edits -= 1) config[keys[next(keys.length)]] = hostile[next(hostile.length)];
      const text = formatConfigJson(config);
      let scheduler;
      try {
        scheduler = schedulerFromConfig(parseJsonText(text, 'fuzz'));
      } catch (error) {
        if (!(error instanceof ConfigError)) throw new Error(`config ${text} gave ${String(error)}`);
        outcomes.refused += 1;
        continue;
      }
      outcomes.built += 1;
      expect(scheduler.alphasCumprod.every((alphaBar) => Number.isFinite(alphaBar) && alphaBar >= 0 && alphaBar <= 1)).toBe(true);
      const total = scheduler.config.numTrainTimesteps;
      try {
        scheduler.setTimesteps(Math.min(10, total));
      } catch (error) {
        // A large steps_offset is valid for few steps only; setTimesteps says so.
        expect(String(error)).toMatch(/RangeError: .*stepsOffset \d+ \('leading' spacing\) reach timestep/);
        continue;
      }
      expect(scheduler.timesteps.every((t) => Number.isInteger(t) && t >= 0 && t < total)).toBe(true);
    }
    console.log(`[fuzz] 1000 mutated scheduler configs: ${outcomes.refused} ConfigError, ${outcomes.built} built`);
    expect(outcomes.refused + outcomes.built).toBe(1000);
    expect(outcomes.refused).toBeGreaterThan(100);
    expect(outcomes.built).toBeGreaterThan(100);
  }, 60_000);
});
