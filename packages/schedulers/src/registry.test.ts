import { describe, expect, it } from 'vitest';
import { ConfigError, formatConfigJson, parseJsonText } from '@diffusion-ts/core';
import { DDIMScheduler } from './ddim.js';
import { DDPMScheduler } from './ddpm.js';
import { PNDMScheduler } from './pndm.js';
import { DPMSolverMultistepScheduler } from './dpm-solver-multistep.js';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral.js';
import { EulerDiscreteScheduler } from './euler.js';
import { FlowMatchEulerDiscreteScheduler } from './flow-match-euler.js';
import { HeunDiscreteScheduler } from './heun.js';
import { LCMScheduler } from './lcm.js';
import { SCHEDULERS, compatibleSchedulers, resolveSchedulerName, schedulerClass, schedulerFromConfig } from './registry.js';
import type { BetaScheduler } from './scheduler.js';
import { SCHEDULER_NAMES } from './scheduler-names.js';
import { geometricBetas } from './schedule.js';
import { UniPCMultistepScheduler } from './unipc-multistep.js';
import { loadFixture } from './testing/fixtures.js';

describe('registry and config swapping', () => {
  it('builds the class named by _class_name', () => {
    expect(schedulerFromConfig({ _class_name: 'DDPMScheduler' })).toBeInstanceOf(DDPMScheduler);
    expect(schedulerFromConfig({ _class_name: 'DDIMScheduler' })).toBeInstanceOf(DDIMScheduler);
    expect(schedulerFromConfig({ _class_name: 'PNDMScheduler' })).toBeInstanceOf(PNDMScheduler);
    expect(schedulerFromConfig({ _class_name: 'DDPMScheduler' }, 'DDIMScheduler')).toBeInstanceOf(DDIMScheduler);
    expect(Object.keys(SCHEDULERS)).toEqual([
      'DDPMScheduler',
      'DDIMScheduler',
      'PNDMScheduler',
      'EulerDiscreteScheduler',
      'EulerAncestralDiscreteScheduler',
      'HeunDiscreteScheduler',
      'LCMScheduler',
      'FlowMatchEulerDiscreteScheduler',
      'DPMSolverMultistepScheduler',
      'UniPCMultistepScheduler',
    ]);
    expect(
      compatibleSchedulers('DDPMScheduler')
        .map((c) => c.className)
        .sort(),
    ).toEqual([
      'DDIMScheduler',
      'DDPMScheduler',
      'DPMSolverMultistepScheduler',
      'EulerAncestralDiscreteScheduler',
      'EulerDiscreteScheduler',
      'HeunDiscreteScheduler',
      'LCMScheduler',
      'PNDMScheduler',
      'UniPCMultistepScheduler',
    ]);
  });

  it('DDPM -> DDIM -> DDPM keeps every option, through JSON text', () => {
    const ddpm = new DDPMScheduler({
      betaSchedule: 'scaled_linear',
      betaStart: 0.00085,
      betaEnd: 0.012,
      varianceType: 'fixed_large',
      predictionType: 'v_prediction',
      clipSample: false,
      stepsOffset: 1,
    });
    const ddim = DDIMScheduler.fromConfig(parseJsonText(formatConfigJson(ddpm.toConfig()), 'test'));
    expect(ddim.config).toMatchObject({
      betaSchedule: 'scaled_linear',
      betaStart: 0.00085,
      betaEnd: 0.012,
      predictionType: 'v_prediction',
      clipSample: false,
      stepsOffset: 1,
      setAlphaToOne: true,
    });
    expect(Array.from(ddim.alphasCumprod)).toEqual(Array.from(ddpm.alphasCumprod));
    const json = ddim.toConfig();
    expect(Object.keys(json).slice(0, 2)).toEqual(['_class_name', '_diffusers_version']);
    expect(json._class_name).toBe('DDIMScheduler');
    expect(json.variance_type).toBe('fixed_large');
    const back = DDPMScheduler.fromConfig(json);
    expect(back.config).toEqual(ddpm.config);
  });

  it('DDIM -> DDPM and PNDM from camelCase configs', () => {
    const ddim = new DDIMScheduler({ setAlphaToOne: false, timestepSpacing: 'trailing' });
    const ddpm = DDPMScheduler.fromConfig(ddim.config);
    expect(ddpm.config.timestepSpacing).toBe('trailing');
    expect(ddpm.toConfig().set_alpha_to_one).toBe(false);
    expect(ddpm.configWarnings.join('\n')).toMatch(/setAlphaToOne/);
    const pndm = PNDMScheduler.fromConfig(ddpm.toConfig());
    expect(pndm.config.setAlphaToOne).toBe(false);
    expect(pndm.toConfig().rescale_betas_zero_snr).toBe(false);
  });

  it('writes exactly the keys Diffusers registers, in its order', () => {
    expect(Object.keys(new DDIMScheduler().toConfig())).toEqual([
      '_class_name',
      '_diffusers_version',
      'num_train_timesteps',
      'beta_start',
      'beta_end',
      'beta_schedule',
      'trained_betas',
      'clip_sample',
      'set_alpha_to_one',
      'steps_offset',
      'prediction_type',
      'thresholding',
      'dynamic_thresholding_ratio',
      'clip_sample_range',
      'sample_max_value',
      'timestep_spacing',
      'rescale_betas_zero_snr',
    ]);
    expect(Object.keys(new PNDMScheduler().toConfig()).slice(2)).toEqual([
      'num_train_timesteps',
      'beta_start',
      'beta_end',
      'beta_schedule',
      'trained_betas',
      'skip_prk_steps',
      'set_alpha_to_one',
      'prediction_type',
      'timestep_spacing',
      'steps_offset',
    ]);
  });

  it('loads every resolved config Diffusers wrote in the fixtures without warnings', () => {
    for (const file of ['ddim_loop_10.json', 'pndm_loop_10.json', 'ddpm_loop_10_noise_rule.json']) {
      const fixture = loadFixture<{ cases: { scheduler: string; resolved_config: Record<string, never> }[] }>(file);
      for (const entry of fixture.cases) {
        const scheduler = schedulerFromConfig({ ...entry.resolved_config, _class_name: entry.scheduler });
        expect(scheduler.configWarnings).toEqual([]);
        const written = scheduler.toConfig();
        for (const [key, value] of Object.entries(entry.resolved_config)) {
          if (!key.startsWith('_')) expect(written[key]).toEqual(value);
        }
      }
    }
  });
});

describe('the sigma solvers swap with the DDPM family', () => {
  const ddpm = new DDPMScheduler({
    betaSchedule: 'scaled_linear',
    betaStart: 0.00085,
    betaEnd: 0.012,
    varianceType: 'fixed_large',
    predictionType: 'v_prediction',
    clipSample: false,
    stepsOffset: 1,
    timestepSpacing: 'trailing',
  });

  it.each(['EulerDiscreteScheduler', 'EulerAncestralDiscreteScheduler', 'HeunDiscreteScheduler', 'LCMScheduler'])(
    'DDPM -> %s -> DDPM keeps every option, through JSON text',
    (className) => {
      const swapped = schedulerFromConfig(parseJsonText(formatConfigJson(ddpm.toConfig()), 'test'), className) as BetaScheduler;
      expect(swapped.className).toBe(className);
      expect(swapped.config).toMatchObject({
        betaSchedule: 'scaled_linear',
        betaStart: 0.00085,
        betaEnd: 0.012,
        predictionType: 'v_prediction',
        stepsOffset: 1,
        timestepSpacing: 'trailing',
      });
      expect(Array.from(swapped.alphasCumprod.subarray(0, 999))).toEqual(Array.from(ddpm.alphasCumprod.subarray(0, 999)));
      const json = parseJsonText(formatConfigJson(swapped.toConfig()), 'test');
      expect(json._class_name).toBe(className);
      expect(json.variance_type).toBe('fixed_large');
      const back = DDPMScheduler.fromConfig(json);
      expect(back.config).toEqual(ddpm.config);
      expect(swapped.configWarnings.join('\n')).toMatch(/variance_type/);
    },
  );

  it('every beta-schedule scheduler accepts the geometric schedule', () => {
    const expected = Array.from(geometricBetas(1e-4, 0.02, 1000));
    for (const [name, schedulerClass] of Object.entries(SCHEDULERS)) {
      if (name === 'FlowMatchEulerDiscreteScheduler') continue;
      const scheduler = schedulerClass.fromConfig({ beta_schedule: 'geometric', beta_start: 1e-4, beta_end: 0.02 }) as BetaScheduler;
      expect([name, Array.from(scheduler.betas)]).toEqual([name, expected]);
    }
  });
});

describe('scheduler names: one table for the CLI, the pipelines and the demo', () => {
  const ddpmConfig = new DDPMScheduler({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, stepsOffset: 1 }).toConfig();

  it('maps each short name to a Diffusers class and the options that make it that sampler', () => {
    const table = Object.fromEntries(Object.entries(SCHEDULER_NAMES).map(([name, entry]) => [name, [entry.className, entry.config]]));
    expect(table).toEqual({
      ddpm: ['DDPMScheduler', {}],
      ddim: ['DDIMScheduler', {}],
      pndm: ['PNDMScheduler', {}],
      euler: ['EulerDiscreteScheduler', {}],
      'euler-a': ['EulerAncestralDiscreteScheduler', {}],
      heun: ['HeunDiscreteScheduler', {}],
      'dpm++2m': ['DPMSolverMultistepScheduler', { algorithm_type: 'dpmsolver++', solver_order: 2, use_karras_sigmas: false }],
      'dpm++2m-karras': ['DPMSolverMultistepScheduler', { algorithm_type: 'dpmsolver++', solver_order: 2, use_karras_sigmas: true }],
      'dpm++2m-sde': ['DPMSolverMultistepScheduler', { algorithm_type: 'sde-dpmsolver++', solver_order: 2, use_karras_sigmas: false }],
      'dpm++3m': ['DPMSolverMultistepScheduler', { algorithm_type: 'dpmsolver++', solver_order: 3, use_karras_sigmas: false }],
      unipc: ['UniPCMultistepScheduler', {}],
      lcm: ['LCMScheduler', {}],
      'flow-euler': ['FlowMatchEulerDiscreteScheduler', {}],
    });
    expect(Object.isFrozen(SCHEDULER_NAMES)).toBe(true);
    expect(Object.isFrozen(SCHEDULER_NAMES['dpm++2m-karras'].config)).toBe(true);
  });

  it.each([
    ['ddpm', DDPMScheduler],
    ['DDIM', DDIMScheduler],
    ['pndm', PNDMScheduler],
    ['DDIMScheduler', DDIMScheduler],
    ['PNDMScheduler', PNDMScheduler],
    ['euler', EulerDiscreteScheduler],
    ['Euler-A', EulerAncestralDiscreteScheduler],
    ['heun', HeunDiscreteScheduler],
    ['dpm++2m-karras', DPMSolverMultistepScheduler],
    ['DPMSolverMultistepScheduler', DPMSolverMultistepScheduler],
    ['unipc', UniPCMultistepScheduler],
    ['lcm', LCMScheduler],
    ['LCMScheduler', LCMScheduler],
  ] as const)('%s builds its class from any compatible config, keeping the config', (name, expected) => {
    expect(resolveSchedulerName(name).className).toBe(expected.className);
    const scheduler = schedulerFromConfig(ddpmConfig, name);
    expect(scheduler).toBeInstanceOf(expected);
    expect(scheduler.config).toMatchObject({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, stepsOffset: 1 });
  });

  it('every short name builds its class with its options (they reach toConfig())', () => {
    const flowConfig = new FlowMatchEulerDiscreteScheduler({ shift: 3 }).toConfig();
    for (const [name, entry] of Object.entries(SCHEDULER_NAMES)) {
      expect([name, entry.className in SCHEDULERS]).toEqual([name, true]);
      // Flow matching reads only flow-matching configs; every other name reads the DDPM family's.
      const scheduler = schedulerFromConfig(entry.className === FlowMatchEulerDiscreteScheduler.className ? flowConfig : ddpmConfig, name);
      expect(scheduler.className).toBe(entry.className);
      expect(scheduler.toConfig()).toMatchObject(entry.config);
    }
    expect(() => schedulerFromConfig(ddpmConfig, 'flow-euler')).toThrow(/cannot build from a config of 'DDPMScheduler'/);
  });

  it('a known Diffusers class that is not implemented gives a clear ConfigError, not a crash', () => {
    // LMS is in Diffusers' list of schedulers that share these configs; this package has none.
    const lms = { ...ddpmConfig, _class_name: 'LMSDiscreteScheduler' };
    expect(() => schedulerFromConfig(lms)).toThrow(
      'LMSDiscreteScheduler is not implemented by this version of @diffusion-ts/schedulers (implemented: DDPMScheduler, DDIMScheduler, ' +
        'PNDMScheduler, EulerDiscreteScheduler, EulerAncestralDiscreteScheduler, HeunDiscreteScheduler, LCMScheduler, ' +
        'FlowMatchEulerDiscreteScheduler, DPMSolverMultistepScheduler, UniPCMultistepScheduler)',
    );
    expect(() => schedulerFromConfig(ddpmConfig, 'LMSDiscreteScheduler')).toThrow(
      /scheduler 'LMSDiscreteScheduler' needs LMSDiscreteScheduler, which this version of @diffusion-ts\/schedulers does not implement/,
    );
    expect(() => schedulerClass('LMSDiscreteScheduler')).toThrow(ConfigError);
    // A config of an unimplemented class still loads into an implemented one when asked.
    expect(schedulerFromConfig(lms, 'ddim')).toBeInstanceOf(DDIMScheduler);
  });

  it('refuses unknown names, listing the short names and the class names', () => {
    expect(() => resolveSchedulerName('fancy')).toThrow(
      /^unknown scheduler 'fancy' \(expected one of ddpm, ddim, pndm, euler, euler-a, heun, dpm\+\+2m, dpm\+\+2m-karras, .*flow-euler, or a class name: DDPMScheduler, DDIMScheduler/,
    );
    expect(() => resolveSchedulerName('ddimscheduler')).toThrow(/unknown scheduler 'ddimscheduler'/);
    expect(() => resolveSchedulerName('__proto__')).toThrow(ConfigError);
    expect(() => resolveSchedulerName('toString')).toThrow(ConfigError);
  });
});
