/**
 * Noise-schedule math shared by every scheduler: betas, alphas, cumulative products and
 * inference timestep spacing. This is the only place this math lives.
 *
 * Diffusers builds its constants as float32 torch tensors. To match it bit for bit (or within
 * an ulp) the values here are computed the way torch 1.13 computes them on the CPU, rounded to
 * float32 with `Math.fround`, and stored widened in `Float64Array`s.
 */

/**
 * The named beta schedules. `laplace` exists only for DDPM and `exp` only for Heun, as in
 * Diffusers. `geometric` is our extension (every scheduler accepts it; see `geometricBetas`).
 */
export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2' | 'sigmoid' | 'laplace' | 'exp' | 'geometric';

/** How `setTimesteps` spreads the inference steps over the training steps. */
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

const f32 = Math.fround;

/**
 * `torch.linspace(start, end, steps, dtype=float32)` as torch 1.13's AVX2 CPU kernel computes it:
 * a float32 step; blocks of 8 start from a fused `start + step * index` (or `end - step * rest` in
 * the upper half) and add `i * step` in float32; a tail shorter than 16 uses the scalar formula.
 */
export function torchLinspaceFloat32(start: number, end: number, steps: number): Float64Array {
  const out = new Float64Array(steps);
  if (steps === 1) {
    out[0] = f32(start);
    return out;
  }
  const first = f32(start);
  const last = f32(end);
  const step = f32(f32(last - first) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const fusedBase = (index: number): number => (index < halfway ? f32(first + step * index) : f32(last - step * (steps - index - 1)));
  let index = 0;
  for (; index <= steps - 16; index += 8) {
    const base = fusedBase(index);
    for (let lane = 0; lane < 8; lane += 1) out[index + lane] = f32(base + f32(lane * step));
  }
  for (; index < steps; index += 1) out[index] = fusedBase(index);
  return out;
}

/** `1 - alphaBar((i+1)/T) / alphaBar(i/T)` capped at `maxBeta`, in float64, then rounded to float32. */
function betasForAlphaBar(count: number, alphaBar: (time: number) => number, maxBeta = 0.999): Float64Array {
  const betas = new Float64Array(count);
  for (let i = 0; i < count; i += 1) {
    betas[i] = f32(Math.min(1 - alphaBar((i + 1) / count) / alphaBar(i / count), maxBeta));
  }
  return betas;
}

/** The cosine alpha-bar of improved DDPM (Diffusers' `squaredcos_cap_v2`). */
function cosineAlphaBar(time: number): number {
  return Math.cos((((time + 0.008) / 1.008) * Math.PI) / 2) ** 2;
}

/** Diffusers' `laplace` alpha-bar (DDPM only). */
function laplaceAlphaBar(time: number): number {
  const lambda = -0.5 * Math.sign(0.5 - time || 1) * Math.log(1 - 2 * Math.abs(0.5 - time) + 1e-6);
  const snr = Math.exp(lambda);
  return Math.sqrt(snr / (1 + snr));
}

/** Diffusers' `exp` alpha-bar (Heun only): e^(-12 t). */
function exponentialAlphaBar(time: number): number {
  return Math.exp(time * -12);
}

/**
 * The geometric schedule (our extension, not in Diffusers): β grows by a constant factor from
 * `betaStart` to `betaEnd`, β_t = betaStart · (betaEnd / betaStart)^((t - 1) / (T - 1)) for
 * t = 1..T, computed in float64 and stored as float32. Both ends must lie in (0, 1].
 * Diffusers' scheduler classes reject the name: loading such a config there raises
 * `NotImplementedError: geometric is not implemented for <class …>` (pass `trained_betas`
 * with these values to use the schedule in Diffusers).
 */
export function geometricBetas(betaStart: number, betaEnd: number, count: number): Float64Array {
  for (const [name, value] of [
    ['betaStart', betaStart],
    ['betaEnd', betaEnd],
  ] as const) {
    if (!(value > 0 && value <= 1)) throw new RangeError(`geometric beta schedule: ${name} must lie in (0, 1], got ${value}`);
  }
  const ratio = betaEnd / betaStart;
  return Float64Array.from({ length: count }, (_, i) => f32(count === 1 ? betaStart : betaStart * ratio ** (i / (count - 1))));
}

/** Options that determine the betas. */
export interface BetaOptions {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  trainedBetas: readonly number[] | null;
  rescaleBetasZeroSnr?: boolean;
}

/** The float32 betas Diffusers builds for a config, widened to float64. */
export function makeBetas(options: BetaOptions): Float64Array {
  const { numTrainTimesteps: count, betaStart, betaEnd } = options;
  let betas: Float64Array;
  if (options.trainedBetas !== null && options.trainedBetas !== undefined) {
    betas = Float64Array.from(options.trainedBetas, f32);
  } else {
    switch (options.betaSchedule) {
      case 'linear':
        betas = torchLinspaceFloat32(betaStart, betaEnd, count);
        break;
      case 'scaled_linear':
        betas = torchLinspaceFloat32(Math.sqrt(betaStart), Math.sqrt(betaEnd), count).map((root) => f32(root * root));
        break;
      case 'squaredcos_cap_v2':
        betas = betasForAlphaBar(count, cosineAlphaBar);
        break;
      case 'laplace':
        betas = betasForAlphaBar(count, laplaceAlphaBar);
        break;
      case 'exp':
        betas = betasForAlphaBar(count, exponentialAlphaBar);
        break;
      case 'geometric':
        betas = geometricBetas(betaStart, betaEnd, count);
        break;
      case 'sigmoid': {
        const range = f32(betaEnd - betaStart);
        betas = torchLinspaceFloat32(-6, 6, count).map((x) => f32(f32(f32(1 / (1 + Math.exp(-x))) * range) + f32(betaStart)));
        break;
      }
      default:
        throw new Error(
          `unknown betaSchedule '${String(options.betaSchedule)}' (expected linear, scaled_linear, squaredcos_cap_v2, sigmoid, laplace, exp or geometric)`,
        );
    }
  }
  return options.rescaleBetasZeroSnr ? rescaleBetasZeroSnr(betas) : betas;
}

/** `1 - beta` in float32. */
export function makeAlphas(betas: Float64Array): Float64Array {
  return betas.map((beta) => f32(1 - beta));
}

/**
 * `torch.cumprod` of float32 values as torch 1.13 computes it on the CPU: the running product
 * is accumulated in float64 and each output is rounded to float32.
 */
export function cumulativeProduct(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  let product = 1;
  for (let i = 0; i < values.length; i += 1) {
    product *= values[i];
    out[i] = f32(product);
  }
  return out;
}

/**
 * Rescales betas to zero terminal SNR (Lin et al. 2023, Algorithm 1), in float32 as Diffusers
 * does: shift and scale sqrt(alpha-bar) so that its last value is 0 and its first is unchanged.
 */
export function rescaleBetasZeroSnr(betas: Float64Array): Float64Array {
  const roots = cumulativeProduct(makeAlphas(betas)).map((alphaBar) => f32(Math.sqrt(alphaBar)));
  const first = roots[0];
  const last = roots[roots.length - 1];
  const scale = f32(first / f32(first - last));
  const alphaBars = roots.map((root) => {
    const rescaled = f32(f32(root - last) * scale);
    return f32(rescaled * rescaled);
  });
  return alphaBars.map((alphaBar, i) => f32(1 - (i === 0 ? alphaBar : f32(alphaBar / alphaBars[i - 1]))));
}

/** The alpha-bar used after the last step: 1 with `setAlphaToOne`, else `alphasCumprod[0]`. */
export function finalAlphaCumprod(alphasCumprod: Float64Array, setAlphaToOne: boolean): number {
  return setAlphaToOne ? 1 : alphasCumprod[0];
}

/** numpy's `round`: halves go to the even neighbour. */
export function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const difference = value - floor;
  if (difference > 0.5) return floor + 1;
  if (difference < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** `numpy.linspace(start, stop, count)`: `start + i * step`, with the last value exactly `stop`. */
export function numpyLinspace(start: number, stop: number, count: number): number[] {
  if (count === 1) return [start];
  const step = (stop - start) / (count - 1);
  return Array.from({ length: count }, (_, i) => (i === count - 1 ? stop : start + i * step));
}

/** `numpy.arange(start, stop, step)` for a float step. */
export function numpyArange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  return Array.from({ length }, (_, i) => start + i * delta);
}

/** Options that determine the inference timesteps. */
export interface SpacingOptions {
  numTrainTimesteps: number;
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
}

/**
 * The inference timesteps for `count` steps in ascending order, as Diffusers' `set_timesteps`
 * computes them: `leading` is `i * (T // N) + stepsOffset`; `trailing` is
 * `round(arange(T, 0, -T/N)) - 1`; `linspace` is `round(linspace(0, T - 1, N))`. Rounding is
 * numpy's half-to-even; `trailing` and `linspace` ignore `stepsOffset`. A `leading` schedule
 * whose offset pushes the last timestep to `numTrainTimesteps` or beyond is refused (Diffusers'
 * DDPM, DDIM and PNDM accept it and fail with an index error in `step`); with `pastEnd: 'allow'`
 * it is kept, for the σ schedulers, which clamp σ there as Diffusers' `np.interp` does.
 */
export function spacedTimestepsAscending(
  count: number,
  options: SpacingOptions,
  context = 'setTimesteps',
  pastEnd: 'refuse' | 'allow' = 'refuse',
): number[] {
  const total = options.numTrainTimesteps;
  switch (options.timestepSpacing) {
    case 'leading': {
      const ratio = Math.floor(total / count);
      if (pastEnd === 'refuse') assertLeadingFits((count - 1) * ratio + options.stepsOffset, count, options, context);
      return Array.from({ length: count }, (_, i) => i * ratio + options.stepsOffset);
    }
    case 'trailing':
      return numpyArange(total, 0, -total / count)
        .map((value) => roundHalfToEven(value) - 1)
        .reverse();
    case 'linspace':
      return numpyLinspace(0, total - 1, count).map(roundHalfToEven);
    default:
      throw new Error(`unknown timestepSpacing '${String(options.timestepSpacing)}' (expected leading, trailing or linspace)`);
  }
}

/**
 * Throws unless `last`, the largest timestep of a `leading` schedule of `count` steps, lies below
 * `numTrainTimesteps` (a large `stepsOffset` pushes it past; Diffusers fails later with an index
 * error).
 */
export function assertLeadingFits(last: number, count: number, options: SpacingOptions, context: string): void {
  if (last >= options.numTrainTimesteps) {
    throw new RangeError(
      `${context}: ${count} steps with stepsOffset ${options.stepsOffset} ('leading' spacing) reach timestep ${last}, ` +
        `beyond numTrainTimesteps - 1 = ${options.numTrainTimesteps - 1}; use fewer steps or 'trailing' spacing`,
    );
  }
}

/** Checks that `count` inference steps are possible with `numTrainTimesteps` training steps. */
export function assertInferenceSteps(count: number | undefined, numTrainTimesteps: number, context: string): asserts count is number {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
    throw new RangeError(`${context}: numInferenceSteps must be an integer >= 1, got ${String(count)}`);
  }
  if (count > numTrainTimesteps) {
    throw new RangeError(`${context}: numInferenceSteps (${count}) cannot be larger than numTrainTimesteps (${numTrainTimesteps})`);
  }
}
