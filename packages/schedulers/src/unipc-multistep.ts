/**
 * UniPC (Zhao et al. 2023): a multistep predictor (UniP) and corrector (UniC) of orders 1-3,
 * numerically matching Diffusers' `UniPCMultistepScheduler`.
 *
 * Symbols (see multistep.ts): from s0 to t, h = λ_t - λ_s0; in data mode (predict_x0) the model
 * outputs m_k are x̂0, F = α_t and ĥ = -h, else they are ε̂, F = σ_t and ĥ = h. With earlier
 * points s_k, r_k = (λ_{s_k} - λ_s0) / h and D_k = (m_k - m0) / r_k (eq. 6 / Algorithm 2):
 *   x_t = a x - F (e^ĥ - 1) m0 - F B(h) Σ_k ρ_k D_k,   a = σ_t/σ_s0 (data) or α_t/α_s0 (noise),
 * B(h) = ĥ (bh1) or e^ĥ - 1 (bh2), and ρ solves R ρ = b with R_ik = r_k^(i-1) and
 * b_i = i! φ_{i+1}(ĥ) ĥ / B(h) (φ_k the exponential-integrator functions). The corrector adds the
 * model output at t itself as one more point (r = 1) and replaces x_t before the next step.
 * Here the weights F B(h) ρ are solved for directly, which stays finite when B(h) is infinite.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type ConfigSchema } from '@diffusion-ts/core';
import { SIGMA_BOUND_FIELD } from './config-fields.js';
import { combine, MultistepScheduler } from './multistep.js';
import {
  MULTISTEP_DEFAULTS,
  MULTISTEP_FIELDS,
  MULTISTEP_LEADING_SCHEMA,
  replaceAliases,
  type MultistepOptions,
} from './multistep-config.js';
import { multistepSchedule, multistepTimesteps } from './multistep-schedule.js';
import { assertInferenceSteps } from './schedule.js';
import { DIFFUSERS_COMPATIBLE_NAMES } from './scheduler-config.js';
import type { SetTimestepsOptions, StepOptions, StepResult } from './scheduler.js';
import { refuseCustomSchedule } from './set-timesteps.js';
import { alphaSigmaOf, lambdaOf } from './sigmas.js';

/** `UniPCMultistepScheduler` options (Diffusers' constructor arguments, camelCase). */
export interface UniPCMultistepOptions extends MultistepOptions {
  /** Solve in the data (x̂0) domain; false solves with ε̂ (and, as in Diffusers, ignores `thresholding`). */
  predictX0: boolean;
  /** B(h) = h (`bh1`, recommended for unconditional sampling) or e^h - 1 (`bh2`, guided). */
  solverType: 'bh1' | 'bh2';
  /** Steps (0-based) whose corrector is skipped (its update applies before step k + 1). */
  disableCorrector: number[];
  /** Another scheduler as the predictor (not supported: must be null). */
  solverP: null;
  /** Karras / exponential / beta σ range ends (null: the training table's). */
  sigmaMin: number | null;
  sigmaMax: number | null;
  /** Flow sigmas only (must be null). */
  shiftTerminal: number | null;
}

/** UniPC defaults, as in Diffusers. */
export const UNIPC_MULTISTEP_DEFAULTS: Readonly<UniPCMultistepOptions> = Object.freeze({
  ...MULTISTEP_DEFAULTS,
  predictX0: true,
  solverType: 'bh2',
  disableCorrector: [],
  solverP: null,
  sigmaMin: null,
  sigmaMax: null,
  shiftTerminal: null,
});

/** Config keys and types, in Diffusers' order. */
export const UNIPC_MULTISTEP_SCHEMA: ConfigSchema<UniPCMultistepOptions> = {
  ...MULTISTEP_LEADING_SCHEMA,
  predictX0: { kind: 'boolean' },
  solverType: { kind: 'string', values: ['bh1', 'bh2'] },
  lowerOrderFinal: MULTISTEP_FIELDS.lowerOrderFinal,
  disableCorrector: { kind: 'integer[]', range: { min: 0 } },
  solverP: { kind: 'json', nullable: true },
  useKarrasSigmas: MULTISTEP_FIELDS.useKarrasSigmas,
  useExponentialSigmas: MULTISTEP_FIELDS.useExponentialSigmas,
  useBetaSigmas: MULTISTEP_FIELDS.useBetaSigmas,
  useFlowSigmas: MULTISTEP_FIELDS.useFlowSigmas,
  flowShift: MULTISTEP_FIELDS.flowShift,
  timestepSpacing: MULTISTEP_FIELDS.timestepSpacing,
  stepsOffset: MULTISTEP_FIELDS.stepsOffset,
  finalSigmasType: MULTISTEP_FIELDS.finalSigmasType,
  rescaleBetasZeroSnr: MULTISTEP_FIELDS.rescaleBetasZeroSnr,
  useDynamicShifting: MULTISTEP_FIELDS.useDynamicShifting,
  timeShiftType: MULTISTEP_FIELDS.timeShiftType,
  sigmaMin: SIGMA_BOUND_FIELD,
  sigmaMax: SIGMA_BOUND_FIELD,
  // Flow sigmas only: any value is refused (see the constructor); the range is flow matching's.
  shiftTerminal: { kind: 'number', nullable: true, range: { min: 0, max: 1, maxExclusive: true } },
};

/** Solves the small system `matrix · x = rhs` (Gaussian elimination, partial pivoting). */
function solve(matrix: number[][], rhs: number[]): number[] {
  const n = rhs.length;
  const a = matrix.map((row, i) => [...row.slice(0, n), rhs[i]]);
  for (let column = 0; column < n; column += 1) {
    const pivot = a.reduce((best, row, i) => (i >= column && Math.abs(row[column]) > Math.abs(a[best][column]) ? i : best), column);
    [a[column], a[pivot]] = [a[pivot], a[column]];
    for (let row = column + 1; row < n; row += 1) {
      const factor = a[row][column] / a[column][column];
      for (let k = column; k <= n; k += 1) a[row][k] -= factor * a[column][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let row = n - 1; row >= 0; row -= 1) {
    let sum = a[row][n];
    for (let k = row + 1; k < n; k += 1) sum -= a[row][k] * x[k];
    x[row] = sum / a[row][row];
  }
  return x;
}

/**
 * UniPC multistep sampler: a good 10-20 step sampler with a corrector that reuses the next model
 * evaluation. `setTimesteps` first; then call `step` once per scheduled timestep, in order.
 */
export class UniPCMultistepScheduler extends MultistepScheduler<UniPCMultistepOptions> {
  /** Diffusers' class name. */
  static readonly className = 'UniPCMultistepScheduler';
  /** Schedulers that can be built from this scheduler's config (Diffusers' `KarrasDiffusionSchedulers`). */
  static readonly compatibles: readonly string[] = DIFFUSERS_COMPATIBLE_NAMES;
  readonly className = UniPCMultistepScheduler.className;
  /** The corrected sample the last predictor started from (`last_sample`). */
  private lastSample: tf.Tensor | null = null;
  /** The order of the last predictor, used by the next corrector. */
  private lastOrder = 1;

  /** Creates a scheduler; `options` may be camelCase options or a Diffusers config object. */
  constructor(options: Partial<UniPCMultistepOptions> = {}) {
    // A DPM-Solver config's solver types load as bh2, as in Diffusers.
    const input = replaceAliases(options, 'solver_type', { midpoint: 'bh2', heun: 'bh2', logrho: 'bh2' });
    super(input, UNIPC_MULTISTEP_SCHEMA, UNIPC_MULTISTEP_DEFAULTS, UniPCMultistepScheduler.className);
    const where = UniPCMultistepScheduler.className;
    if (this.config.solverP !== null)
      throw new ConfigError(`${where}: solverP (another scheduler as predictor) is not supported; it must be null`, 'solver_p');
    if (this.config.shiftTerminal !== null)
      throw new ConfigError(`${where}: shiftTerminal is only supported with flow sigmas`, 'shift_terminal');
  }

  /**
   * Sets `numInferenceSteps` timesteps and their σ. Refuses a schedule whose last step would be
   * of order 2 or 3 onto σ = 0 (`lowerOrderFinal` false with `finalSigmasType` 'zero'): that
   * update has no finite value (Diffusers returns NaN there).
   */
  override setTimesteps(numInferenceSteps?: number, options: SetTimestepsOptions = {}): void {
    refuseCustomSchedule(options, [], this.className);
    const { config } = this;
    assertInferenceSteps(numInferenceSteps, config.numTrainTimesteps, this.className);
    if (config.finalSigmasType === 'zero' && !config.lowerOrderFinal && config.solverOrder > 1 && numInferenceSteps > 1) {
      throw new RangeError(
        `${this.className}.setTimesteps: solverOrder ${config.solverOrder} with lowerOrderFinal false ends with a higher-order step onto σ = 0, ` +
          `which has no finite value (Diffusers returns NaN): set lowerOrderFinal true or finalSigmasType 'sigma_min'`,
      );
    }
    const timesteps = multistepTimesteps(numInferenceSteps, config);
    const rule = { timesteps, roundRespaced: config.useKarrasSigmas, bounds: config, finalFromRespaced: true };
    this.install(multistepSchedule(this.trainSigmas, config, rule, this.className));
  }

  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options: StepOptions = {}): StepResult {
    const i = this.beginStep(modelOutput, timestep, sample, options);
    const { predictX0, solverOrder, lowerOrderFinal, disableCorrector } = this.config;
    const sigma = this.sigmas[i];
    const converted = tf.tidy(() =>
      predictX0 ? this.dataPrediction(modelOutput, sample, sigma) : this.noisePrediction(modelOutput, sample, sigma),
    );
    let current = sample;
    if (i > 0 && !disableCorrector.includes(i - 1) && this.lastSample !== null) {
      // UniC: x_{s0} -> x_t again, now with the model output at t.
      current = tf.tidy(() => this.update(this.lastSample!, i - 1, this.lastOrder, converted));
    }
    this.remember(converted);
    const order = Math.min(lowerOrderFinal ? Math.min(solverOrder, this.timesteps.length - i) : solverOrder, this.lowerOrderNums + 1);
    this.lastOrder = order;
    this.lastSample?.dispose();
    this.lastSample = tf.keep(current === sample ? tf.clone(sample) : current);
    return tf.tidy(() => {
      const prevSample = this.update(current, i, order);
      const predOriginalSample = predictX0 ? converted : this.dataFromNoise(converted, sample, sigma);
      if (!predictX0) converted.dispose();
      this.endStep();
      return { prevSample, predOriginalSample };
    });
  }

  /**
   * One UniP update from σ_from to σ_{from+1} with the history's last `order` outputs (newest is
   * at `from`), or the UniC update when `corrector` (the output at σ_{from+1}) is given; in `tidy`.
   */
  private update(x: tf.Tensor, from: number, order: number, corrector?: tf.Tensor): tf.Tensor {
    const { predictX0, solverType } = this.config;
    const s = alphaSigmaOf(this.sigmas[from]);
    const t = alphaSigmaOf(this.sigmas[from + 1]);
    const lambdaS = lambdaOf(this.sigmas[from]);
    const h = lambdaOf(this.sigmas[from + 1]) - lambdaS;
    if (h === 0) return tf.clone(x); // a zero-length step (respaced σ ending at σ_min, then final σ_min)
    const hh = predictX0 ? -h : h;
    const scale = predictX0 ? t.alpha : t.sigma;
    // F (e^ĥ - 1); in noise mode onto σ_t = 0 this is σ_t e^h → α_t σ_s0 / α_s0 (not 0 · ∞).
    const phiTerm = !predictX0 && t.sigma === 0 ? (t.alpha * s.sigma) / s.alpha : scale * Math.expm1(hh);
    const history = [...this.history].reverse(); // m0 (at `from`), m1, m2
    const ratios = Array.from({ length: order - 1 }, (_, k) => (lambdaOf(this.sigmas[from - k - 1]) - lambdaS) / h);
    const bh = solverType === 'bh1' ? hh : Math.expm1(hh);
    // g = B(h) ρ: fixed ½ B(h) for UniP-2 and UniC-1, else R g = (i! φ-terms), R_ik = r_k^(i-1).
    const points = corrector ? [...ratios, 1] : ratios;
    let g: number[];
    if (points.length === 0) g = [];
    else if (points.length === 1 && (corrector ? order === 1 : order === 2)) g = [0.5 * bh];
    else {
      const rhs: number[] = [];
      let phi = Math.expm1(hh) / hh - 1;
      let factorial = 1;
      for (let k = 1; k <= points.length; k += 1) {
        rhs.push(phi * factorial);
        factorial *= k + 1;
        phi = phi / hh - 1 / factorial;
      }
      g = solve(
        points.map((_, row) => points.map((r) => r ** row)),
        rhs,
      );
    }
    const terms: [number, tf.Tensor][] = [[predictX0 ? t.sigma / s.sigma : t.alpha / s.alpha, x]];
    let m0Weight = -phiTerm;
    ratios.forEach((r, k) => {
      terms.push([(-scale * g[k]) / r, history[k + 1]]);
      m0Weight += (scale * g[k]) / r;
    });
    if (corrector) {
      terms.push([-scale * g[order - 1], corrector]);
      m0Weight += scale * g[order - 1];
    }
    terms.push([m0Weight, history[0]]);
    return combine(terms);
  }

  /** Also frees the kept sample. */
  protected override releaseHistory(): void {
    super.releaseHistory();
    this.lastSample?.dispose();
    this.lastSample = null;
  }
}
