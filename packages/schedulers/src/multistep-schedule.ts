/**
 * The timesteps and σ of the multistep solvers (Diffusers' DPM-Solver / UniPC `set_timesteps`).
 * Their spacing differs from the other schedulers': n + 1 points with the last (0) dropped.
 */
import type { MultistepOptions } from './multistep-config.js';
import { numpyArange, numpyLinspace, roundHalfToEven, type SpacingOptions } from './schedule.js';
import { logSigmas, respaceSigmas, sigmaAtTimestep, sigmaSpacingOf, sigmaToTimestep } from './sigmas.js';

/**
 * The multistep solvers' timesteps, descending:
 * `linspace` rounds linspace(0, last - 1, n + 1) and drops the final 0; `leading` is
 * i · (last // (n + 1)) + stepsOffset for i = n … 1; `trailing` rounds arange(last, 0, -T / n)
 * and subtracts 1. `last` is T unless DPM-Solver's `lambdaMinClipped` cuts the schedule short.
 */
export function multistepTimesteps(count: number, options: SpacingOptions, last = options.numTrainTimesteps): number[] {
  switch (options.timestepSpacing) {
    case 'linspace':
      return numpyLinspace(0, last - 1, count + 1)
        .map(roundHalfToEven)
        .reverse()
        .slice(0, -1);
    case 'leading': {
      const ratio = Math.floor(last / (count + 1));
      return Array.from({ length: count }, (_, i) => (count - i) * ratio + options.stepsOffset);
    }
    case 'trailing':
      return numpyArange(last, 0, -options.numTrainTimesteps / count).map((t) => roundHalfToEven(t) - 1);
    default:
      throw new RangeError(`unknown timestepSpacing '${String(options.timestepSpacing)}' (expected linspace, leading or trailing)`);
  }
}

/** How a solver turns its timesteps into σ (the differences between DPM-Solver and UniPC). */
export interface ScheduleRule {
  /** Descending integer timesteps (spaced, or custom). */
  timesteps: number[];
  /** Timesteps that follow respaced σ are rounded (half to even), else truncated as `.to(int64)` does. */
  roundRespaced: boolean;
  /** DPM-Solver's `use_lu_lambdas`: σ evenly spaced in log σ between the float32 table ends. */
  luLambdas?: boolean;
  /** UniPC's `sigma_min` / `sigma_max`: ends of the respaced σ (else the table's). */
  bounds?: { sigmaMin: number | null; sigmaMax: number | null };
  /** UniPC: with respaced σ, `sigma_min` appends the last respaced σ (DPM: σ of timestep 0). */
  finalFromRespaced?: boolean;
}

/** Timesteps and n + 1 float32 σ of one multistep schedule. */
export function multistepSchedule(
  trainSigmas: Float64Array,
  options: MultistepOptions,
  rule: ScheduleRule,
  context: string,
): { timesteps: number[]; sigmas: Float64Array } {
  const count = rule.timesteps.length;
  const spacing = sigmaSpacingOf(options, context);
  const logTable = logSigmas(trainSigmas);
  let sigmas: Float64Array;
  let timesteps = rule.timesteps;
  if (spacing !== null || rule.luLambdas) {
    if (spacing !== null) sigmas = respaceSigmas(spacing, Float64Array.from(trainSigmas).reverse(), count, rule.bounds);
    else
      sigmas = Float64Array.from(numpyLinspace(0, 1, count), (ramp) =>
        Math.exp(logTable[logTable.length - 1] + ramp * (logTable[0] - logTable[logTable.length - 1])),
      );
    timesteps = Array.from(sigmas, (sigma) => (rule.roundRespaced ? roundHalfToEven : Math.trunc)(sigmaToTimestep(sigma, logTable)));
  } else {
    sigmas = Float64Array.from(timesteps, (t) => sigmaAtTimestep(t, trainSigmas));
  }
  const respaced = spacing !== null || rule.luLambdas === true;
  const sigmaMin = rule.finalFromRespaced && respaced ? sigmas[count - 1] : trainSigmas[0];
  const out = new Float64Array(count + 1);
  sigmas.forEach((sigma, i) => (out[i] = Math.fround(sigma)));
  out[count] = options.finalSigmasType === 'sigma_min' ? Math.fround(sigmaMin) : 0;
  return { timesteps, sigmas: out };
}
