/**
 * The sigma view of a noise schedule (k-diffusion; Karras et al. 2022, "EDM"), shared by every
 * sigma-based scheduler: Euler, Euler ancestral, Heun, DPM-Solver++, UniPC and flow matching.
 * This is the only place this math lives.
 *
 * Symbols: ᾱ_t = alphasCumprod[t]; σ_t = sqrt((1 - ᾱ_t) / ᾱ_t), the noise level of the
 * variance-exploding view x̃ = x_t / sqrt(ᾱ_t) = x0 + σ ε. The variance-preserving pair is
 * α_t = 1 / sqrt(1 + σ²) and σ'_t = σ α_t, and the half log-SNR λ_t = log α_t - log σ'_t = -log σ.
 * Flow matching (rectified flow) uses x_t = (1 - σ) x0 + σ ε, so α_t = 1 - σ and σ'_t = σ.
 *
 * Precision follows Diffusers: its sigma tables are float32 (from the float32 ᾱ), the
 * conversions between them run in float64 numpy and the results are stored as float32. Every
 * function here is plain float64 arithmetic on numbers; callers round with `Math.fround` where
 * Diffusers stores float32.
 */
import { ConfigError, toSnakeCase } from '@diffusion-ts/core';
import { numpyLinspace, spacedTimestepsAscending, torchLinspaceFloat32, type SpacingOptions } from './schedule.js';

const f32 = Math.fround;

/** σ_t = sqrt((1 - ᾱ_t) / ᾱ_t) per training timestep (ascending t), float32 as torch computes it. */
export function sigmasFromAlphasCumprod(alphasCumprod: ArrayLike<number>): Float64Array {
  return Float64Array.from(alphasCumprod, (alphaBar) => f32(Math.sqrt(f32(f32(1 - alphaBar) / alphaBar))));
}

/** What `trainSigmasOf` reads from a β-schedule scheduler's config. */
export interface TrainSigmaOptions {
  rescaleBetasZeroSnr?: boolean;
  trainedBetas: readonly number[] | null;
}

/**
 * The σ table of a β-schedule scheduler (ascending t). With zero terminal SNR, ᾱ_T = 0 would
 * make σ_T infinite: as Diffusers, ᾱ_T is set to 2^-24 first (in `alphasCumprod`, so σ_T ≈ 4096).
 * Any other ᾱ too small for a finite float32 σ (betas so large that the signal vanishes) is a
 * `ConfigError` naming the β key: Diffusers would start from infinite noise and return NaN.
 */
export function trainSigmasOf(alphasCumprod: Float64Array, options: TrainSigmaOptions, className: string): Float64Array {
  if (options.rescaleBetasZeroSnr === true) alphasCumprod[alphasCumprod.length - 1] = 2 ** -24;
  const sigmas = sigmasFromAlphasCumprod(alphasCumprod);
  const bad = sigmas.findIndex((sigma) => !Number.isFinite(sigma));
  if (bad >= 0) {
    const key = options.trainedBetas !== null ? 'trained_betas' : 'beta_end';
    throw new ConfigError(
      `${className}: the betas make alphas_cumprod[${bad}] = ${alphasCumprod[bad]} (float32), so σ is infinite from timestep ${bad} on; ` +
        `use smaller betas (${key}) or fewer num_train_timesteps`,
      key,
    );
  }
  return sigmas;
}

/** log σ of a float32 sigma table, rounded to float32 (Diffusers' `log_sigmas`). */
export function logSigmas(sigmas: ArrayLike<number>): Float64Array {
  return Float64Array.from(sigmas, (sigma) => f32(Math.log(sigma)));
}

/** σ at a (possibly fractional) training timestep: linear interpolation of the table (`np.interp` on 0..T-1). */
export function sigmaAtTimestep(timestep: number, trainSigmas: ArrayLike<number>): number {
  const last = trainSigmas.length - 1;
  if (!(timestep > 0)) return trainSigmas[0];
  if (timestep >= last) return trainSigmas[last];
  const low = Math.floor(timestep);
  if (low === timestep) return trainSigmas[low];
  const slope = trainSigmas[low + 1] - trainSigmas[low];
  return slope * (timestep - low) + trainSigmas[low];
}

/**
 * The fractional training timestep whose σ is `sigma`, interpolating linearly in log σ between
 * the two neighbouring table entries and clamping to the table (Diffusers' `_sigma_to_t`).
 */
export function sigmaToTimestep(sigma: number, logSigmaTable: ArrayLike<number>): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  const count = logSigmaTable.length;
  // The last index whose log σ is <= log σ (0 if none), at most count - 2.
  let low = 0;
  for (let i = 0; i < count; i += 1) if (logSigma - logSigmaTable[i] >= 0) low = i;
  // A one-entry table maps every σ to timestep 0 (Diffusers' index arithmetic gives NaN).
  if (count === 1) return 0;
  low = Math.min(low, count - 2);
  const lowValue = logSigmaTable[low];
  const highValue = logSigmaTable[low + 1];
  // numpy 1.x keeps Diffusers' float32 table arrays float32 against the float64 scalar log σ
  // (the scalar is rounded to float32 first), so the weight and 1 - weight are float32: the end σ
  // then give exactly T - 1, not T - 1 - 4e-8. Two equal entries (β below float32's resolution)
  // give the lower timestep where Diffusers' 0 / 0 gives NaN.
  const span = f32(lowValue - highValue);
  const weight = span === 0 ? 0 : Math.min(Math.max(f32(f32(lowValue - f32(logSigma)) / span), 0), 1);
  return f32(1 - weight) * low + weight * (low + 1);
}

/** Karras et al. (2022) eq. 5: σ_i = (σmax^(1/ρ) + i/(n-1) (σmin^(1/ρ) - σmax^(1/ρ)))^ρ, descending. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, count: number, rho = 7): Float64Array {
  const minInverse = sigmaMin ** (1 / rho);
  const maxInverse = sigmaMax ** (1 / rho);
  return Float64Array.from(numpyLinspace(0, 1, count), (ramp) => (maxInverse + ramp * (minInverse - maxInverse)) ** rho);
}

/** σ evenly spaced in log σ from `sigmaMax` down to `sigmaMin`. */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, count: number): Float64Array {
  return Float64Array.from(numpyLinspace(Math.log(sigmaMax), Math.log(sigmaMin), count), Math.exp);
}

/**
 * σ at the quantiles of a Beta(α, β) distribution ("Beta Sampling is All You Need", Lee et al.
 * 2024): σ_i = σmin + ppf(1 - i/(n-1)) (σmax - σmin), descending; α = β = 0.6 as in Diffusers.
 */
export function betaSigmas(sigmaMin: number, sigmaMax: number, count: number, alpha = 0.6, beta = 0.6): Float64Array {
  return Float64Array.from(
    numpyLinspace(0, 1, count),
    (ramp) => sigmaMin + inverseRegularizedBeta(1 - ramp, alpha, beta) * (sigmaMax - sigmaMin),
  );
}

/** The alternatives to the interpolated σ of the training table (`use_karras_sigmas` etc.). */
export type SigmaSpacing = 'karras' | 'exponential' | 'beta';

const FLAGS = { karras: 'useKarrasSigmas', exponential: 'useExponentialSigmas', beta: 'useBetaSigmas' } as const;

/** The config flags that choose a `SigmaSpacing`. */
export interface SigmaSpacingFlags {
  useKarrasSigmas: boolean;
  useExponentialSigmas: boolean;
  useBetaSigmas: boolean;
}

/** The spacing the flags choose (null: none); at most one may be set, as in Diffusers (else a `ConfigError`). */
export function sigmaSpacingOf(flags: SigmaSpacingFlags, context: string): SigmaSpacing | null {
  const set = (['karras', 'exponential', 'beta'] as const).filter((name) => flags[FLAGS[name]]);
  if (set.length > 1) {
    throw new ConfigError(
      `${context}: only one of useKarrasSigmas, useExponentialSigmas, useBetaSigmas can be set (got ${set.map((name) => FLAGS[name]).join(', ')})`,
      toSnakeCase(FLAGS[set[1]]),
    );
  }
  return set[0] ?? null;
}

/**
 * `count` new σ between the ends of `sigmas` (descending) with the given spacing; `sigmaMin` /
 * `sigmaMax` replace the ends when not null (Diffusers' `_convert_to_karras` and siblings).
 */
export function respaceSigmas(
  spacing: SigmaSpacing,
  sigmas: ArrayLike<number>,
  count: number,
  bounds: { sigmaMin?: number | null; sigmaMax?: number | null } = {},
): Float64Array {
  const sigmaMin = bounds.sigmaMin ?? sigmas[sigmas.length - 1];
  const sigmaMax = bounds.sigmaMax ?? sigmas[0];
  if (spacing === 'karras') return karrasSigmas(sigmaMin, sigmaMax, count);
  if (spacing === 'exponential') return exponentialSigmas(sigmaMin, sigmaMax, count);
  return betaSigmas(sigmaMin, sigmaMax, count);
}

/** The variance-preserving pair of σ: α_t = 1/sqrt(1 + σ²), σ'_t = σ α_t (flow: α_t = 1 - σ, σ'_t = σ). */
export function alphaSigmaOf(sigma: number, flow = false): { alpha: number; sigma: number } {
  if (flow) return { alpha: 1 - sigma, sigma };
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  return { alpha, sigma: sigma * alpha };
}

/** Half log-SNR λ = log α_t - log σ'_t of σ (DPM-Solver's λ). */
export function lambdaOf(sigma: number, flow = false): number {
  const pair = alphaSigmaOf(sigma, flow);
  return Math.log(pair.alpha) - Math.log(pair.sigma);
}

/**
 * The inference timesteps of the sigma schedulers (Euler, Heun), descending. `linspace` gives
 * float32 values of `linspace(0, T - 1, n)` (not rounded); `leading` and `trailing` are the
 * integer spacings every scheduler shares (`spacedTimestepsAscending`).
 */
export function sigmaSchedulerTimesteps(count: number, options: SpacingOptions): number[] {
  if (options.timestepSpacing === 'linspace')
    return numpyLinspace(0, options.numTrainTimesteps - 1, count)
      .map(f32)
      .reverse();
  return spacedTimestepsAscending(count, options, 'setTimesteps', 'allow').reverse();
}

/** Standard deviation of the start noise: σmax for `linspace` / `trailing`, else sqrt(σmax² + 1). */
export function initNoiseSigmaFor(maxSigma: number, timestepSpacing: string): number {
  return timestepSpacing === 'linspace' || timestepSpacing === 'trailing' ? maxSigma : f32(Math.sqrt(f32(f32(maxSigma * maxSigma) + 1)));
}

/** What `discreteSigmaSchedule` needs from a scheduler's config. */
export interface DiscreteSigmaOptions {
  /** Karras / exponential / beta σ instead of the table's; null keeps the interpolated σ. */
  spacing: SigmaSpacing | null;
  /** `linear`: σ interpolated at each timestep; `log_linear`: n + 1 σ evenly spaced in log σ. */
  interpolationType?: 'linear' | 'log_linear';
  sigmaMin?: number | null;
  sigmaMax?: number | null;
  /** The σ appended after the last step: 0, or σ of training timestep 0. */
  finalSigmasType?: 'zero' | 'sigma_min';
}

/** Float32 timesteps and sigmas of one inference schedule; `sigmas` has one more entry (the final σ). */
export interface SigmaSchedule {
  timesteps: number[];
  sigmas: Float64Array;
}

/**
 * The schedule of Diffusers' Euler-family `set_timesteps` for the given (descending, possibly
 * fractional) timesteps: σ from the training table, optionally respaced (the timesteps then
 * follow the new σ through `sigmaToTimestep`), then the final σ appended.
 */
export function discreteSigmaSchedule(
  trainSigmas: Float64Array,
  timesteps: readonly number[],
  options: DiscreteSigmaOptions,
): SigmaSchedule {
  const logTable = logSigmas(trainSigmas);
  let resultTimesteps = timesteps.map(f32);
  let sigmas: Float64Array;
  if ((options.interpolationType ?? 'linear') === 'linear') {
    sigmas = Float64Array.from(resultTimesteps, (t) => sigmaAtTimestep(t, trainSigmas));
  } else {
    // torch.linspace(log σmin', log σmax', n + 1).exp() in float32, σ' the float32 log of the table ends.
    const ends = [logTable[trainSigmas.length - 1], logTable[0]];
    sigmas = torchLinspaceFloat32(ends[0], ends[1], timesteps.length + 1).map((value) => f32(Math.exp(value)));
  }
  if (options.spacing !== null) {
    sigmas = respaceSigmas(options.spacing, sigmas, timesteps.length, options);
    resultTimesteps = Array.from(sigmas, (sigma) => f32(sigmaToTimestep(sigma, logTable)));
  }
  const last = options.finalSigmasType === 'sigma_min' ? trainSigmas[0] : 0;
  const out = new Float64Array(sigmas.length + 1);
  sigmas.forEach((sigma, i) => (out[i] = f32(sigma)));
  out[sigmas.length] = f32(last);
  return { timesteps: resultTimesteps, sigmas: out };
}

/**
 * The schedule of custom σ (descending, ending with the final σ): each timestep follows its σ
 * through `sigmaToTimestep` (Diffusers' `set_timesteps(sigmas=…)`).
 */
export function customSigmaSchedule(trainSigmas: Float64Array, sigmas: readonly number[]): SigmaSchedule {
  const logTable = logSigmas(trainSigmas);
  const rounded = Float64Array.from(sigmas, f32);
  return { timesteps: Array.from(rounded.subarray(0, -1), (sigma) => f32(sigmaToTimestep(sigma, logTable))), sigmas: rounded };
}

// ---- Flow matching -------------------------------------------------------------------------

/** No rounding: the arithmetic of Diffusers' float64 numpy paths. */
const exact = (value: number): number => value;

/**
 * The static shift of flow matching (SD3): σ' = s σ / (1 + (s - 1) σ). `round` is applied after
 * every operation (`Math.fround` where Diffusers computes on float32 arrays).
 */
export function shiftSigma(sigma: number, shift: number, round: (value: number) => number = exact): number {
  return round(round(round(shift) * sigma) / round(1 + round(round(shift - 1) * sigma)));
}

/** How resolution-dependent shifting maps σ: `exponential` (e^μ) or `linear` (μ). */
export type TimeShiftType = 'exponential' | 'linear';

/** The dynamic (resolution-dependent) shift of FLUX: e^μ / (e^μ + (1/σ - 1)^e), or μ / (μ + …); `round` as in `shiftSigma`. */
export function timeShift(type: TimeShiftType, mu: number, sigma: number, exponent = 1, round: (value: number) => number = exact): number {
  const factor = round(type === 'exponential' ? Math.exp(mu) : mu);
  return round(factor / round(factor + round(round(round(1 / sigma) - 1) ** exponent)));
}

/** Stretches σ so that the last one is `shiftTerminal`: 1 - (1 - σ) (1 - terminal) / (1 - σ_last). */
export function stretchToTerminal(sigmas: Float64Array, shiftTerminal: number): Float64Array {
  const scale = (1 - sigmas[sigmas.length - 1]) / (1 - shiftTerminal);
  return sigmas.map((sigma) => 1 - (1 - sigma) / scale);
}

/**
 * μ of the dynamic shift for an image of `imageSeqLen` latent tokens: linear in the sequence
 * length from `baseShift` at `baseSeqLen` to `maxShift` at `maxSeqLen` (Diffusers pipelines'
 * `calculate_shift`; FLUX / SD3 defaults).
 */
export function dynamicShiftMu(imageSeqLen: number, baseSeqLen = 256, maxSeqLen = 4096, baseShift = 0.5, maxShift = 1.15): number {
  const slope = (maxShift - baseShift) / (maxSeqLen - baseSeqLen);
  return imageSeqLen * slope + (baseShift - slope * baseSeqLen);
}

// ---- helpers -------------------------------------------------------------------------------

/** log Γ(x) for x > 0 (Lanczos, g = 7, n = 9; ~1e-15 relative). */
function logGamma(x: number): number {
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const shifted = x - 1;
  let sum = coefficients[0];
  for (let i = 1; i < 9; i += 1) sum += coefficients[i] / (shifted + i);
  const t = shifted + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let result = d;
  for (let m = 1; m <= 300; m += 1) {
    const even = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 + even * d;
    c = 1 + even / c;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = Math.abs(c) < tiny ? tiny : c;
    result *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + odd * d;
    c = 1 + odd / c;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = Math.abs(c) < tiny ? tiny : c;
    const delta = d * c;
    result *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return result;
}

/** The regularized incomplete beta function I_x(a, b). */
function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(x, a, b)) / a : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** The quantile function of Beta(a, b) (scipy's `beta.ppf`), by bisection to full precision. */
function inverseRegularizedBeta(p: number, a: number, b: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  let low = 0;
  let high = 1;
  for (let i = 0; i < 200 && high - low > 1e-17; i += 1) {
    const middle = (low + high) / 2;
    if (regularizedBeta(middle, a, b) < p) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}
