import { describe, expect, it } from 'vitest';
import {
  cumulativeProduct,
  makeAlphas,
  makeBetas,
  rescaleBetasZeroSnr,
  roundHalfToEven,
  spacedTimestepsAscending,
  type BetaSchedule,
} from './schedule.js';
import { float32Values, loadFixture, maxRelativeError, type FixtureArray } from './testing/fixtures.js';

interface ScheduleCase {
  scheduler_config: { beta_schedule: BetaSchedule; beta_start?: number; beta_end?: number };
  num_train_timesteps: number;
  betas: FixtureArray;
  alphas: FixtureArray;
  alphas_cumprod: FixtureArray;
  final_alpha_cumprod: { set_alpha_to_one_true: number; set_alpha_to_one_false: number };
}

const schedules = loadFixture<{ schedules: ScheduleCase[] }>('schedules.json').schedules;

describe('schedule constants (schedules.json)', () => {
  let worst = 0;
  it.each(schedules.map((entry) => [`${entry.scheduler_config.beta_schedule} T=${entry.num_train_timesteps}`, entry] as const))(
    '%s matches Diffusers within 1e-6 relative',
    (_, entry) => {
      const betas = makeBetas({
        numTrainTimesteps: entry.num_train_timesteps,
        betaStart: entry.scheduler_config.beta_start ?? 0.0001,
        betaEnd: entry.scheduler_config.beta_end ?? 0.02,
        betaSchedule: entry.scheduler_config.beta_schedule,
        trainedBetas: null,
      });
      const alphas = makeAlphas(betas);
      const alphasCumprod = cumulativeProduct(alphas);
      const errors = [
        maxRelativeError(betas, float32Values(entry.betas)),
        maxRelativeError(alphas, float32Values(entry.alphas)),
        maxRelativeError(alphasCumprod, float32Values(entry.alphas_cumprod)),
        Math.abs(alphasCumprod[0] - Math.fround(entry.final_alpha_cumprod.set_alpha_to_one_false)),
      ];
      worst = Math.max(worst, ...errors);
      for (const error of errors) expect(error).toBeLessThanOrEqual(1e-6);
    },
  );
  it('reports the worst error', () => {
    console.log(`schedules.json max relative error: ${worst.toExponential(3)}`);
  });

  it('reproduces torch.linspace bit for bit for linear and scaled_linear', () => {
    for (const entry of schedules.filter((e) => e.scheduler_config.beta_schedule !== 'squaredcos_cap_v2')) {
      const betas = makeBetas({
        numTrainTimesteps: entry.num_train_timesteps,
        betaStart: entry.scheduler_config.beta_start!,
        betaEnd: entry.scheduler_config.beta_end!,
        betaSchedule: entry.scheduler_config.beta_schedule,
        trainedBetas: null,
      });
      expect(Array.from(betas)).toEqual(Array.from(float32Values(entry.betas)));
      expect(Array.from(cumulativeProduct(makeAlphas(betas)))).toEqual(Array.from(float32Values(entry.alphas_cumprod)));
    }
  });
});

describe('beta schedules beyond the fixtures', () => {
  it('sigmoid follows sigmoid(linspace(-6, 6)) * (end - start) + start', () => {
    const betas = makeBetas({ numTrainTimesteps: 5, betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'sigmoid', trainedBetas: null });
    const expected = [-6, -3, 0, 3, 6].map((x) => (1 / (1 + Math.exp(-x))) * (0.02 - 0.0001) + 0.0001);
    expect(maxRelativeError(betas, expected)).toBeLessThan(1e-6);
  });

  it('trainedBetas are used as given (rounded to float32)', () => {
    const betas = makeBetas({ numTrainTimesteps: 3, betaStart: 0, betaEnd: 0, betaSchedule: 'linear', trainedBetas: [0.1, 0.2, 0.3] });
    expect(Array.from(betas)).toEqual([0.1, 0.2, 0.3].map(Math.fround));
  });

  it('rescaleBetasZeroSnr gives zero terminal alpha-bar and keeps the first one', () => {
    const betas = makeBetas({
      numTrainTimesteps: 1000,
      betaStart: 0.00085,
      betaEnd: 0.012,
      betaSchedule: 'scaled_linear',
      trainedBetas: null,
    });
    const before = cumulativeProduct(makeAlphas(betas));
    const rescaled = rescaleBetasZeroSnr(betas);
    const after = cumulativeProduct(makeAlphas(rescaled));
    expect(after[999]).toBe(0);
    expect(rescaled[999]).toBe(1);
    expect(Math.abs(after[0] - before[0]) / before[0]).toBeLessThan(1e-6);
    // Float64 evaluation of Lin et al. Algorithm 1 at a middle timestep.
    const roots = Array.from(before, Math.sqrt);
    const scale = roots[0] / (roots[0] - roots[999]);
    const expected = ((roots[500] - roots[999]) * scale) ** 2;
    expect(Math.abs(after[500] - expected) / expected).toBeLessThan(1e-5);
  });
});

describe('timestep spacing', () => {
  const base = { numTrainTimesteps: 1000, stepsOffset: 0 };
  it('rounds half to even like numpy', () => {
    expect([0.5, 1.5, 2.5, 166.5, 832.5, -0.5, 3.2, 3.7].map(roundHalfToEven)).toEqual([0, 2, 2, 166, 832, 0, 3, 4]);
  });
  it('linspace(0, 999, 7) gives 166 and 832', () => {
    expect(spacedTimestepsAscending(7, { ...base, timestepSpacing: 'linspace' })).toEqual([0, 166, 333, 500, 666, 832, 999]);
  });
  it('trailing counts back from T - 1 and ignores stepsOffset', () => {
    expect(spacedTimestepsAscending(10, { ...base, stepsOffset: 1, timestepSpacing: 'trailing' })).toEqual([
      99, 199, 299, 399, 499, 599, 699, 799, 899, 999,
    ]);
    // np.round(np.arange(1000, 0, -1000/3)) - 1 = [999, 666, 332]
    expect(spacedTimestepsAscending(3, { ...base, timestepSpacing: 'trailing' })).toEqual([332, 666, 999]);
    // ratio 62.5: halves round to even
    expect(spacedTimestepsAscending(16, { ...base, timestepSpacing: 'trailing' }).slice(-3)).toEqual([874, 937, 999]);
  });
  it('leading adds stepsOffset', () => {
    expect(spacedTimestepsAscending(4, { ...base, stepsOffset: 1, timestepSpacing: 'leading' })).toEqual([1, 251, 501, 751]);
  });
});

describe('geometric beta schedule (our extension)', () => {
  const options = { numTrainTimesteps: 1000, betaStart: 1e-4, betaEnd: 0.02, betaSchedule: 'geometric' as const, trainedBetas: null };

  it('grows by a constant factor from betaStart to betaEnd, float64 rounded to float32', () => {
    const betas = makeBetas(options);
    expect(betas[0]).toBe(Math.fround(1e-4));
    expect(betas[999]).toBe(Math.fround(0.02));
    // An independent float64 evaluation in log space: log β_t = log β_1 + (t - 1)/(T - 1) log(β_T / β_1).
    const expected = Float64Array.from({ length: 1000 }, (_, i) =>
      Math.fround(Math.exp(Math.log(1e-4) + (i / 999) * Math.log(0.02 / 1e-4))),
    );
    expect(maxRelativeError(betas, expected)).toBeLessThan(1.2e-7);
    const ratios = Array.from(betas.subarray(1), (beta, i) => beta / betas[i]);
    expect(Math.max(...ratios) / Math.min(...ratios)).toBeLessThan(1 + 1e-6);
    expect(Array.from(makeBetas({ ...options, numTrainTimesteps: 1 }))).toEqual([Math.fround(1e-4)]);
  });

  it('refuses ends outside (0, 1], naming them', () => {
    expect(() => makeBetas({ ...options, betaStart: 0 })).toThrow(/betaStart must lie in \(0, 1\]/);
    expect(() => makeBetas({ ...options, betaEnd: 1.5 })).toThrow(/betaEnd must lie in \(0, 1\]/);
  });
});
