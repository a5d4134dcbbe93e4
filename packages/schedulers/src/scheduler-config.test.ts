import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, formatConfigJson, initBackend, parseJsonText, type ConfigJson, type ConfigValue } from '@diffusion-ts/core';
import { MAX_TRAIN_TIMESTEPS } from './config-fields.js';
import { DDIMScheduler } from './ddim.js';
import { DDPMScheduler } from './ddpm.js';
import { DPMSolverMultistepScheduler } from './dpm-solver-multistep.js';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral.js';
import { EulerDiscreteScheduler } from './euler.js';
import { FlowMatchEulerDiscreteScheduler } from './flow-match-euler.js';
import { HeunDiscreteScheduler } from './heun.js';
import { LCMScheduler } from './lcm.js';
import { PNDMScheduler } from './pndm.js';
import { SCHEDULERS, schedulerFromConfig, type SchedulerClass } from './registry.js';
import type { BetaScheduler, Scheduler } from './scheduler.js';
import { UniPCMultistepScheduler } from './unipc-multistep.js';

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
/** The classes over a β schedule: all but flow matching. */
const BETA_CLASSES = CLASSES.filter((Scheduler) => Scheduler !== FlowMatchEulerDiscreteScheduler);

/** The classes that work in σ (their schedule needs σ = sqrt((1 - ᾱ) / ᾱ) finite). */
const SIGMA_CLASSES: SchedulerClass[] = [
  EulerDiscreteScheduler,
  EulerAncestralDiscreteScheduler,
  HeunDiscreteScheduler,
  DPMSolverMultistepScheduler,
  UniPCMultistepScheduler,
];

/** The scheduler `Scheduler` builds from `config`, as a β-schedule one. */
const buildBeta = (Scheduler: SchedulerClass, config: ConfigJson): BetaScheduler => Scheduler.fromConfig(config) as BetaScheduler;

/** `config`, with LCM's distillation steps lowered to fit a short training schedule. */
function fitting(Scheduler: SchedulerClass, config: ConfigJson): ConfigJson {
  const total = typeof config.num_train_timesteps === 'number' ? config.num_train_timesteps : 1000;
  return Scheduler === LCMScheduler && total < 50 ? { original_inference_steps: total, ...config } : config;
}

describe('scheduler configs: every numeric key checked for type, sign and range', () => {
  it.each([
    [{ beta_start: 2 }, 'beta_start', "'beta_start' must lie in (0, 1), got 2"],
    [{ beta_start: -1 }, 'beta_start', "'beta_start' must lie in (0, 1), got -1"],
    [{ beta_start: 0 }, 'beta_start', "'beta_start' must lie in (0, 1), got 0"],
    [{ beta_end: 1.5 }, 'beta_end', "'beta_end' must lie in (0, 1), got 1.5"],
    [{ beta_end: 1 }, 'beta_end', "'beta_end' must lie in (0, 1), got 1"],
    [
      { num_train_timesteps: 4, trained_betas: [0.1, 0.2, 1.2, 0.3] },
      'trained_betas',
      "'trained_betas' must hold values in (0, 1), got 1.2 at index 2",
    ],
    [
      { num_train_timesteps: 3, trained_betas: [0, 0.2, 0.3] },
      'trained_betas',
      "'trained_betas' must hold values in (0, 1), got 0 at index 0",
    ],
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
    for (const Scheduler of BETA_CLASSES) {
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

  it.each([
    [EulerDiscreteScheduler, { sigma_min: 0 }, 'sigma_min', "'sigma_min' must be > 0, got 0"],
    [EulerDiscreteScheduler, { sigma_max: -14.6 }, 'sigma_max', "'sigma_max' must be > 0, got -14.6"],
    [HeunDiscreteScheduler, { clip_sample_range: 0 }, 'clip_sample_range', "'clip_sample_range' must be > 0, got 0"],
    [
      LCMScheduler,
      { original_inference_steps: 0 },
      'original_inference_steps',
      "'original_inference_steps' must lie in [1, 1000000], got 0",
    ],
    [LCMScheduler, { original_inference_steps: 1001 }, 'original_inference_steps', '= [1, 1000], got 1001'],
    [LCMScheduler, { timestep_scaling: 0 }, 'timestep_scaling', "'timestep_scaling' must be > 0, got 0"],
    [LCMScheduler, { sample_max_value: -1 }, 'sample_max_value', "'sample_max_value' must be > 0, got -1"],
    [DPMSolverMultistepScheduler, { solver_order: 4 }, 'solver_order', "'solver_order' must lie in [1, 3], got 4"],
    [DPMSolverMultistepScheduler, { dynamic_thresholding_ratio: 1.5 }, 'dynamic_thresholding_ratio', 'must lie in (0, 1], got 1.5'],
    [DPMSolverMultistepScheduler, { flow_shift: 0 }, 'flow_shift', "'flow_shift' must lie in [0.001, 1000], got 0"],
    [
      DPMSolverMultistepScheduler,
      { lambda_min_clipped: Number.NaN },
      'lambda_min_clipped',
      'lambdaMinClipped must be a number or -Infinity, got NaN',
    ],
    [UniPCMultistepScheduler, { solver_order: 0 }, 'solver_order', "'solver_order' must lie in [1, 3], got 0"],
    [
      UniPCMultistepScheduler,
      { disable_corrector: [0, -1] },
      'disable_corrector',
      "'disable_corrector' must hold values >= 0, got -1 at index 1",
    ],
    [UniPCMultistepScheduler, { sigma_min: -1 }, 'sigma_min', "'sigma_min' must be > 0, got -1"],
    [
      FlowMatchEulerDiscreteScheduler,
      { num_train_timesteps: 1e8 },
      'num_train_timesteps',
      "'num_train_timesteps' must lie in [1, 1000000], got 100000000",
    ],
    [FlowMatchEulerDiscreteScheduler, { num_train_timesteps: 0 }, 'num_train_timesteps', 'got 0'],
    [FlowMatchEulerDiscreteScheduler, { shift: -3 }, 'shift', "'shift' must lie in [0.001, 1000], got -3"],
    [FlowMatchEulerDiscreteScheduler, { shift: 1e-300 }, 'shift', "'shift' must lie in [0.001, 1000], got 1e-300"],
    [FlowMatchEulerDiscreteScheduler, { shift: 1e300 }, 'shift', "'shift' must lie in [0.001, 1000], got 1e+300"],
    [FlowMatchEulerDiscreteScheduler, { shift_terminal: 1 }, 'shift_terminal', "'shift_terminal' must lie in [0, 1), got 1"],
    [FlowMatchEulerDiscreteScheduler, { base_shift: 100 }, 'base_shift', "'base_shift' must lie in [-50, 50], got 100"],
    [
      FlowMatchEulerDiscreteScheduler,
      { max_image_seq_len: 0 },
      'max_image_seq_len',
      "'max_image_seq_len' must lie in [1, 2147483647], got 0",
    ],
  ] as [SchedulerClass, ConfigJson, string, string][])('%o: %j is refused, naming %s', (Scheduler, config, key, message) => {
    const error = configError(() => Scheduler.fromConfig(config));
    expect(error.key).toBe(key);
    expect(error.message).toContain(message);
    expect(error.message).toMatch(new RegExp(`^${Scheduler.className}: `));
  });

  it('names the camelCase option when given options', () => {
    expect(configError(() => new DDPMScheduler({ betaStart: 2 })).message).toContain("'betaStart' must lie in (0, 1), got 2");
    expect(configError(() => new DDIMScheduler({ stepsOffset: 1000 })).key).toBe('steps_offset');
    expect(configError(() => new PNDMScheduler({ numTrainTimesteps: 0 })).key).toBe('numTrainTimesteps');
    expect(configError(() => new DDPMScheduler({ trainedBetas: new Float64Array([0.1, 2]) as never, numTrainTimesteps: 2 })).key).toBe(
      'trainedBetas',
    );
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
      const underflows = DDPMScheduler.fromConfig(config).alphasCumprod.some(
        (alphaBar) => Math.fround(Math.fround(1 - alphaBar) / alphaBar) === Infinity,
      );
      for (const Scheduler of BETA_CLASSES) {
        if (SIGMA_CLASSES.includes(Scheduler) && underflows) {
          // ᾱ underflows to a float32 denormal there: σ = sqrt((1 - ᾱ) / ᾱ) would be infinite.
          const error = configError(() => Scheduler.fromConfig(config));
          expect([Scheduler.className, error.key]).toEqual([Scheduler.className, 'beta_end']);
          expect(error.message).toMatch(/so σ is infinite from timestep \d+ on; use smaller betas \(beta_end\)/);
          continue;
        }
        const scheduler = buildBeta(Scheduler, fitting(Scheduler, config));
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
      0,
      -1,
      1,
      2,
      0.5,
      1.5,
      -0.0001,
      1e-300,
      1e8,
      1e300,
      999,
      1000,
      1000.5,
      MAX_TRAIN_TIMESTEPS + 1,
      '1',
      '',
      'linear',
      'v_prediction',
      'leading',
      true,
      false,
      null,
      [],
      [0.1, 0.2],
      [2, 0.1],
      {},
      { nested: [[[1]]] },
    ];
    const base: ConfigJson = {
      _class_name: 'DDPMScheduler',
      num_train_timesteps: 1000,
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      trained_betas: null,
      variance_type: 'fixed_small',
      clip_sample: false,
      prediction_type: 'epsilon',
      thresholding: false,
      dynamic_thresholding_ratio: 0.995,
      clip_sample_range: 1,
      sample_max_value: 1,
      timestep_spacing: 'leading',
      steps_offset: 1,
      set_alpha_to_one: false,
      skip_prk_steps: true,
      rescale_betas_zero_snr: false,
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
      let scheduler: BetaScheduler;
      try {
        scheduler = schedulerFromConfig(parseJsonText(text, 'fuzz')) as BetaScheduler;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw new Error(`config ${text} gave ${String(error)}`, { cause: error });
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

  it('a fuzz of 1,400 mutated scheduler_config.json of the solvers: each a ConfigError, or a scheduler whose first step is finite', async () => {
    await initBackend('cpu');
    // Values of the key's own type two times in three (else any value), so that most configs get past the type checks.
    const numbers: ConfigValue[] = [
      0,
      -1,
      1,
      2,
      3,
      4,
      0.5,
      1.5,
      -0.0001,
      1e-300,
      1e8,
      1e300,
      999,
      1000,
      1000.5,
      MAX_TRAIN_TIMESTEPS + 1,
      -5.1,
      50,
    ];
    const strings: ConfigValue[] = [
      '',
      'linear',
      'v_prediction',
      'sample',
      'trailing',
      'dpmsolver++',
      'sde-dpmsolver',
      'bh1',
      'heun',
      'sigma_min',
      'karras',
    ];
    const others: ConfigValue[] = [Number.NaN, Infinity, -Infinity, '1', true, false, null, [], [0, 1], [2, 0.1], {}, { nested: [[[1]]] }];
    const hostile = [...numbers, ...strings, ...others];
    const sameType = (value: ConfigValue): ConfigValue[] =>
      typeof value === 'boolean'
        ? [true, false]
        : typeof value === 'string'
          ? strings
          : Array.isArray(value)
            ? [[], [0, 1], [2, 0.1], [999]]
            : numbers;
    // Realistic configs of each solver (SDXL, SD-Turbo, LCM, SD3, DPM++ 2M SDE Karras, UniPC), as the classes write them.
    const sources: [SchedulerClass, ConfigJson][] = [
      [
        EulerDiscreteScheduler,
        { beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, steps_offset: 1, timestep_spacing: 'leading' },
      ],
      [
        EulerAncestralDiscreteScheduler,
        { beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, timestep_spacing: 'trailing' },
      ],
      [HeunDiscreteScheduler, { use_karras_sigmas: true, prediction_type: 'v_prediction' }],
      [LCMScheduler, { original_inference_steps: 50, timestep_scaling: 10 }],
      [FlowMatchEulerDiscreteScheduler, { shift: 3, use_dynamic_shifting: false, shift_terminal: 0.02 }],
      [DPMSolverMultistepScheduler, { algorithm_type: 'sde-dpmsolver++', use_karras_sigmas: true, lambda_min_clipped: -Infinity }],
      [UniPCMultistepScheduler, { solver_order: 2, timestep_spacing: 'trailing', disable_corrector: [0] }],
    ];
    const bases = sources.map(([Scheduler, config]) => {
      const { _diffusers_version: _, ...json } = parseJsonText(formatConfigJson(Scheduler.fromConfig(config).toConfig()), 'base');
      return json;
    });
    let state = 4321;
    const next = (count: number): number => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % count;
    };
    // Stochastic steps draw from a fixed source, so that the run is the same every time.
    const generator = { normal: (count: number) => Float32Array.from({ length: count }, (_, i) => ((i * 37) % 11) / 5 - 1) };
    const outcomes = { refused: 0, built: 0, refusedSchedule: 0, signalGone: 0, stepped: 0 };
    const scheduleErrors = new Set<string>();
    const before = tf.memory().numTensors;
    for (let run = 0; run < 1400; run += 1) {
      const source = run % sources.length;
      const base = bases[source];
      const keys = Object.keys(base).filter((key) => key !== '_class_name');
      // Half load into their own class, half into another one (swapping, or refused as incompatible).
      const className = next(2) === 0 ? sources[source][0].className : sources[next(sources.length)][0].className;
      const config: ConfigJson = { ...base, _class_name: className };
      for (let edits = 1 + next(3); edits > 0; edits -= 1) {
        const key = keys[next(keys.length)];
        const values = next(3) === 0 ? hostile : sameType(base[key]);
        config[key] = values[next(values.length)];
      }
      const text = formatConfigJson(config);
      let scheduler: Scheduler;
      try {
        scheduler = schedulerFromConfig(parseJsonText(text, 'fuzz'));
      } catch (error) {
        if (!(error instanceof ConfigError)) throw new Error(`config ${text} gave ${String(error)}`, { cause: error });
        outcomes.refused += 1;
        continue;
      }
      outcomes.built += 1;
      if ('alphasCumprod' in scheduler) {
        const { alphasCumprod } = scheduler as BetaScheduler;
        expect(alphasCumprod.every((alphaBar) => Number.isFinite(alphaBar) && alphaBar >= 0 && alphaBar <= 1)).toBe(true);
      }
      const total = scheduler.config.numTrainTimesteps;
      const dynamic = (scheduler.config as { useDynamicShifting?: boolean }).useDynamicShifting === true;
      try {
        scheduler.setTimesteps(Math.min(10, total), dynamic ? { mu: 0.8 } : undefined);
      } catch (error) {
        // Some valid configs allow few steps only (or none of this count): setTimesteps says why.
        const allowed = [
          /\('leading' spacing\) reach timestep \d+, beyond numTrainTimesteps/,
          /numInferenceSteps \(\d+\) cannot exceed originalInferenceSteps/,
          /set lowerOrderFinal true or finalSigmasType 'sigma_min'/,
          /the schedule repeats σ .*: use fewer inference steps/,
          /lambdaMinClipped .* keeps \d+ training timesteps, fewer than numInferenceSteps/,
        ];
        if (!(error instanceof RangeError) || !allowed.some((pattern) => pattern.test(error.message))) {
          throw new Error(`config ${text}: setTimesteps gave ${String(error)}`, { cause: error });
        }
        scheduleErrors.add(`${scheduler.className}: ${error.message.replace(/-?\d+(\.\d+)?(e[-+]\d+)?/g, 'N')}`);
        outcomes.refusedSchedule += 1;
        continue;
      }
      const where = `config ${text}`;
      expect([where, scheduler.timesteps.every(Number.isFinite)]).toEqual([where, true]);
      expect([where, Array.from(scheduler.sigmas ?? []).every((sigma) => sigma >= 0 && Number.isFinite(sigma))]).toEqual([where, true]);
      expect([where, Number.isFinite(scheduler.initNoiseSigma)]).toEqual([where, true]);
      // ᾱ = 0 at the first step (zero terminal SNR, or betas so large that ᾱ underflows) leaves an
      // ε-predicting model nothing to recover x0 from: Diffusers' ᾱ-based schedulers (DDIM, LCM)
      // divide by sqrt(ᾱ) = 0 there, and so do ours; v / sample prediction steps on.
      const alphasCumprod = (scheduler as Partial<BetaScheduler>).alphasCumprod;
      const signalGone = alphasCumprod !== undefined && !('sigmas' in scheduler) && alphasCumprod[scheduler.timesteps[0]] === 0;
      if (signalGone && (scheduler as BetaScheduler).config.predictionType === 'epsilon') {
        outcomes.signalGone += 1;
        continue;
      }
      const values = tf.tidy(() => {
        const t = scheduler.timesteps[0];
        const sample = tf.mul(tf.reshape(tf.linspace(-1, 1, 8), [2, 2, 2, 1]), scheduler.initNoiseSigma);
        const input = scheduler.scaleModelInput(sample, t);
        const output = tf.mul(input, 0.3);
        return scheduler.step(output, t, sample, { generator }).prevSample.dataSync();
      });
      expect([where, Array.from(values).every(Number.isFinite)]).toEqual([where, true]);
      scheduler.dispose();
      outcomes.stepped += 1;
    }
    expect(tf.memory().numTensors).toBe(before);
    console.log(
      `[fuzz] 1400 mutated solver configs: ${JSON.stringify(outcomes)}; setTimesteps(10) refused with:\n  ${[...scheduleErrors].join('\n  ')}`,
    );
    expect(outcomes.refused + outcomes.built).toBe(1400);
    expect(outcomes.refused).toBeGreaterThan(200);
    expect(outcomes.stepped).toBeGreaterThan(200);
  }, 120_000);
});
