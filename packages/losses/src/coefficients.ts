/**
 * The diffusion constants of the variational bound, derived in float64 from the betas exactly as
 * improved-diffusion's `GaussianDiffusion` derives them (numpy float64). They are rounded to
 * float32 only where they enter tensor math, so the bound matches improved-diffusion rather
 * than Diffusers' float32 `alphas_cumprod` (whose `1 - ᾱ_0` is 1.7e-4 too large).
 *
 * Symbols: β_t = betas[t], α_t = 1 - β_t, ᾱ_t = ∏_{s<=t} α_s, ᾱ_{t-1} with ᾱ_{-1} = 1.
 * Posterior q(x_{t-1} | x_t, x_0) (DDPM eq. 6-7):
 *   μ̃ = β_t sqrt(ᾱ_{t-1}) / (1 - ᾱ_t) · x_0 + (1 - ᾱ_{t-1}) sqrt(α_t) / (1 - ᾱ_t) · x_t
 *   β̃_t = β_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t)
 */

/**
 * What the losses need from a scheduler: a schedulers-package `DDPMScheduler` fits, and so does a
 * plain object with the same fields.
 */
export interface DiffusionSchedule {
  /** β_t for every training timestep. */
  readonly betas: Float64Array;
  /** ᾱ_t as the scheduler uses it (Diffusers' float32 values); targets of `lSimple` read it. */
  readonly alphasCumprod?: Float64Array;
  /** The scheduler's options; the losses read these. */
  readonly config: {
    readonly numTrainTimesteps: number;
    /** When given, used in preference to `betas` (which a DDPMScheduler rounds to float32). */
    readonly trainedBetas?: readonly number[] | null;
    readonly varianceType?: string;
    readonly predictionType?: string;
  };
}

/** Per-timestep constants of the bound, float64, one entry per training timestep. */
export interface DiffusionCoefficients {
  readonly numTimesteps: number;
  readonly betas: Float64Array;
  readonly alphasCumprod: Float64Array;
  readonly alphasCumprodPrev: Float64Array;
  readonly sqrtAlphasCumprod: Float64Array;
  readonly sqrtOneMinusAlphasCumprod: Float64Array;
  readonly oneMinusAlphasCumprod: Float64Array;
  readonly logOneMinusAlphasCumprod: Float64Array;
  readonly sqrtRecipAlphasCumprod: Float64Array;
  readonly sqrtRecipm1AlphasCumprod: Float64Array;
  /** β̃_t (0 at t = 0). */
  readonly posteriorVariance: Float64Array;
  /** log β̃_t with t = 0 replaced by t = 1 (β̃_0 = 0). */
  readonly posteriorLogVarianceClipped: Float64Array;
  readonly posteriorMeanCoef1: Float64Array;
  readonly posteriorMeanCoef2: Float64Array;
  /** fixed_large: β_t, with β̃_1 at t = 0 for a better decoder likelihood (improved-diffusion). */
  readonly fixedLargeVariance: Float64Array;
  readonly fixedLargeLogVariance: Float64Array;
  /** log β_t: the upper end of the learned range. */
  readonly logBetas: Float64Array;
}

const cache = new WeakMap<object, { betas: Float64Array; coefficients: DiffusionCoefficients }>();

const map = (values: Float64Array, f: (value: number, index: number) => number): Float64Array => values.map(f);

/** Derives every constant from `betas` (float64, numpy's order of operations). */
export function deriveCoefficients(betas: Float64Array): DiffusionCoefficients {
  const numTimesteps = betas.length;
  if (numTimesteps < 2) throw new RangeError(`scheduler.betas: need at least 2 timesteps, got ${numTimesteps}`);
  betas.forEach((beta, t) => {
    if (!(beta > 0 && beta <= 1)) throw new RangeError(`scheduler.betas[${t}] = ${beta} is not in (0, 1]`);
  });
  const alphas = map(betas, (beta) => 1 - beta);
  const alphasCumprod = new Float64Array(numTimesteps);
  let product = 1;
  alphas.forEach((alpha, t) => {
    product *= alpha;
    alphasCumprod[t] = product;
  });
  const alphasCumprodPrev = map(alphasCumprod, (_, t) => (t === 0 ? 1 : alphasCumprod[t - 1]));
  const oneMinus = map(alphasCumprod, (a) => 1 - a);
  const posteriorVariance = map(betas, (beta, t) => (beta * (1 - alphasCumprodPrev[t])) / (1 - alphasCumprod[t]));
  const fixedLargeVariance = map(betas, (beta, t) => (t === 0 ? posteriorVariance[1] : beta));
  return {
    numTimesteps,
    betas,
    alphasCumprod,
    alphasCumprodPrev,
    sqrtAlphasCumprod: map(alphasCumprod, Math.sqrt),
    sqrtOneMinusAlphasCumprod: map(oneMinus, Math.sqrt),
    oneMinusAlphasCumprod: oneMinus,
    logOneMinusAlphasCumprod: map(oneMinus, Math.log),
    sqrtRecipAlphasCumprod: map(alphasCumprod, (a) => Math.sqrt(1 / a)),
    sqrtRecipm1AlphasCumprod: map(alphasCumprod, (a) => Math.sqrt(1 / a - 1)),
    posteriorVariance,
    posteriorLogVarianceClipped: map(posteriorVariance, (v, t) => Math.log(t === 0 ? posteriorVariance[1] : v)),
    posteriorMeanCoef1: map(betas, (beta, t) => (beta * Math.sqrt(alphasCumprodPrev[t])) / (1 - alphasCumprod[t])),
    posteriorMeanCoef2: map(alphas, (alpha, t) => ((1 - alphasCumprodPrev[t]) * Math.sqrt(alpha)) / (1 - alphasCumprod[t])),
    fixedLargeVariance,
    fixedLargeLogVariance: map(fixedLargeVariance, Math.log),
    logBetas: map(betas, Math.log),
  };
}

/**
 * The float64 constants of `scheduler`, derived once per scheduler (and again if its `betas`
 * array is replaced).
 */
export function coefficientsOf(scheduler: DiffusionSchedule): DiffusionCoefficients {
  if (typeof scheduler !== 'object' || scheduler === null || !(scheduler.betas instanceof Float64Array)) {
    throw new TypeError('scheduler: expected a DDPM scheduler (an object with `betas: Float64Array` and `config`)');
  }
  const numTrainTimesteps = scheduler.config?.numTrainTimesteps;
  if (numTrainTimesteps !== scheduler.betas.length) {
    throw new RangeError(
      `scheduler: config.numTrainTimesteps (${String(numTrainTimesteps)}) does not match betas.length (${scheduler.betas.length})`,
    );
  }
  const cached = cache.get(scheduler);
  if (cached && cached.betas === scheduler.betas) return cached.coefficients;
  // Diffusers rounds trainedBetas to float32; improved-diffusion keeps them float64. The float64
  // values matter where betas approach 1 (cosine tail: 1 - β = 0.001 loses 4 digits in float32).
  const trained = scheduler.config.trainedBetas;
  const exact =
    Array.isArray(trained) &&
    trained.length === scheduler.betas.length &&
    trained.every((beta, t) => typeof beta === 'number' && Math.fround(beta) === scheduler.betas[t]);
  const coefficients = deriveCoefficients(exact ? Float64Array.from(trained) : scheduler.betas);
  cache.set(scheduler, { betas: scheduler.betas, coefficients });
  return coefficients;
}
