import { describe, expect, it } from 'vitest';
import { ConfigError } from '@diffusion-ts/core';
import { cumulativeProduct, makeAlphas, makeBetas } from './schedule.js';
import {
  alphaSigmaOf,
  betaSigmas,
  dynamicShiftMu,
  exponentialSigmas,
  initNoiseSigmaFor,
  karrasSigmas,
  lambdaOf,
  logSigmas,
  respaceSigmas,
  shiftSigma,
  sigmaAtTimestep,
  sigmaSchedulerTimesteps,
  sigmaSpacingOf,
  sigmasFromAlphasCumprod,
  sigmaToTimestep,
  stretchToTerminal,
  timeShift,
} from './sigmas.js';

const alphasCumprod = cumulativeProduct(
  makeAlphas(makeBetas({ numTrainTimesteps: 1000, betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear', trainedBetas: null })),
);
const table = sigmasFromAlphasCumprod(alphasCumprod);

describe('sigma machinery', () => {
  it('σ_t = sqrt((1 - ᾱ) / ᾱ), ascending, float32', () => {
    expect(table).toHaveLength(1000);
    for (const t of [0, 500, 999]) expect(table[t]).toBeCloseTo(Math.sqrt((1 - alphasCumprod[t]) / alphasCumprod[t]), 5);
    expect(table.every((sigma, t) => sigma === Math.fround(sigma) && (t === 0 || sigma > table[t - 1]))).toBe(true);
  });

  it('sigmaToTimestep inverts the table at every integer timestep and interpolates in log σ between', () => {
    const logs = logSigmas(table);
    for (const t of [0, 1, 250, 777, 998, 999]) expect(sigmaToTimestep(table[t], logs)).toBeCloseTo(t, 4);
    const between = Math.exp((Math.log(table[400]) + Math.log(table[401])) / 2);
    expect(sigmaToTimestep(between, logs)).toBeCloseTo(400.5, 3);
    expect(sigmaToTimestep(table[0] / 2, logs)).toBe(0);
    expect(sigmaToTimestep(table[999] * 2, logs)).toBe(999);
    expect(sigmaAtTimestep(400.5, table)).toBeCloseTo((table[400] + table[401]) / 2, 6);
    expect(sigmaAtTimestep(-3, table)).toBe(table[0]);
    expect(sigmaAtTimestep(1e6, table)).toBe(table[999]);
  });

  it('Karras σ follow eq. 5 with ρ = 7; exponential σ have a constant ratio', () => {
    const karras = karrasSigmas(0.03, 14.6, 6);
    expect(karras[0]).toBeCloseTo(14.6, 12);
    expect(karras[5]).toBeCloseTo(0.03, 12);
    const roots = Array.from(karras, (sigma) => sigma ** (1 / 7));
    for (let i = 1; i < 5; i += 1) expect(roots[i + 1] - roots[i]).toBeCloseTo(roots[1] - roots[0], 12);
    const exponential = exponentialSigmas(0.03, 14.6, 6);
    for (let i = 1; i < 6; i += 1) expect(exponential[i] / exponential[i - 1]).toBeCloseTo(exponential[1] / exponential[0], 12);
    expect(Array.from(respaceSigmas('karras', [14.6, 1, 0.03], 6))).toEqual(Array.from(karras));
    expect(respaceSigmas('exponential', [14.6, 0.03], 3, { sigmaMin: 0.1, sigmaMax: 10 })[1]).toBeCloseTo(1, 12);
  });

  it('beta σ sit at the quantiles of Beta(α, β) (values from scipy.stats.beta.ppf)', () => {
    const quantiles = betaSigmas(0, 1, 5);
    const scipy = [1, 0.824319621347305, 0.5000000000000001, 0.17568037865269498, 0];
    quantiles.forEach((value, i) => expect(value).toBeCloseTo(scipy[i], 12));
    expect(betaSigmas(0, 1, 3, 2, 0.5)[1]).toBeCloseTo(0.8793852415718169, 12);
    expect(betaSigmas(0.03, 14.6, 2)[0]).toBeCloseTo(14.6, 12);
  });

  it('at most one σ spacing, as a ConfigError naming the key', () => {
    const flags = { useKarrasSigmas: true, useExponentialSigmas: false, useBetaSigmas: true };
    expect(() => sigmaSpacingOf(flags, 'test')).toThrow(ConfigError);
    expect(() => sigmaSpacingOf(flags, 'test')).toThrow(expect.objectContaining({ key: 'use_beta_sigmas' }) as Error);
    expect(sigmaSpacingOf({ ...flags, useBetaSigmas: false }, 'test')).toBe('karras');
    expect(sigmaSpacingOf({ ...flags, useKarrasSigmas: false, useBetaSigmas: false }, 'test')).toBeNull();
  });

  it("VP view: α² + σ'² = 1 and λ = -log σ; flow: α = 1 - σ", () => {
    const { alpha, sigma } = alphaSigmaOf(2.5);
    expect(alpha ** 2 + sigma ** 2).toBeCloseTo(1, 14);
    expect(sigma / alpha).toBeCloseTo(2.5, 14);
    expect(lambdaOf(2.5)).toBeCloseTo(-Math.log(2.5), 14);
    expect(alphaSigmaOf(0.3, true)).toEqual({ alpha: 0.7, sigma: 0.3 });
    expect(lambdaOf(0.3, true)).toBeCloseTo(Math.log(0.7 / 0.3), 14);
  });

  it('flow shifts: fixed ends, monotone, and the dynamic shift at μ = log s equals the static one', () => {
    for (const sigma of [0, 1]) expect(shiftSigma(sigma, 3)).toBe(sigma);
    expect(shiftSigma(0.5, 3)).toBeCloseTo(0.75, 14);
    expect(timeShift('exponential', Math.log(3), 0.5)).toBeCloseTo(shiftSigma(0.5, 3), 14);
    expect(timeShift('linear', 3, 0.5)).toBeCloseTo(0.75, 14);
    expect(shiftSigma(0.5, 3, Math.fround)).toBe(Math.fround(0.75));
    const stretched = stretchToTerminal(Float64Array.from([1, 0.5, 0.2]), 0.1);
    expect(stretched[0]).toBe(1);
    expect(stretched[2]).toBeCloseTo(0.1, 14);
    expect(dynamicShiftMu(256)).toBeCloseTo(0.5, 14);
  });

  it('sigma-scheduler timesteps: float linspace, integer leading / trailing; initNoiseSigma by spacing', () => {
    const spacing = { numTrainTimesteps: 1000, stepsOffset: 1 };
    expect(sigmaSchedulerTimesteps(7, { ...spacing, timestepSpacing: 'linspace' })).toEqual([999, 832.5, 666, 499.5, 333, 166.5, 0]);
    expect(sigmaSchedulerTimesteps(4, { ...spacing, timestepSpacing: 'leading' })).toEqual([751, 501, 251, 1]);
    expect(sigmaSchedulerTimesteps(4, { ...spacing, timestepSpacing: 'trailing' })).toEqual([999, 749, 499, 249]);
    expect(initNoiseSigmaFor(14.6, 'trailing')).toBe(14.6);
    expect(initNoiseSigmaFor(14.6, 'leading')).toBeCloseTo(Math.sqrt(14.6 ** 2 + 1), 5);
  });
});
