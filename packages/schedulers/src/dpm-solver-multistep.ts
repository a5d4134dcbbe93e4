/**
 * Multistep DPM-Solver (Lu et al. 2022) and DPM-Solver++ (Lu et al. 2022b), ODE and SDE forms,
 * orders 1-3, numerically matching Diffusers' `DPMSolverMultistepScheduler`.
 *
 * Symbols (see multistep.ts): a step goes from s0 = σ_i to t = σ_{i+1}, h = λ_t - λ_s0, with
 * earlier steps s1, s2 and h_0 = λ_s0 - λ_s1, h_1 = λ_s1 - λ_s2, r_k = h_k / h. The model
 * outputs m0, m1, m2 (newest first) are x̂0 (DPM-Solver++) or ε̂ (DPM-Solver). Finite differences
 * D0 = m0, D1 = (m0 - m1) / r0 (order 2), and for order 3 D1 = D1_0 + r0/(r0+r1) (D1_0 - D1_1),
 * D2 = (D1_0 - D1_1) / (r0 + r1). DPM-Solver++(2M) (eq. 3.4 of the ++ paper):
 *   x_t = (σ_t/σ_s0) x - α_t (e^{-h} - 1) D0 - ½ α_t (e^{-h} - 1) D1.
 * The SDE variants add σ_t sqrt(1 - e^{-2h}) z (++) or σ_t sqrt(e^{2h} - 1) z, one draw per step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type ConfigSchema } from '@diffusion-ts/core';
import { drawNoise } from './draw-noise.js';
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
import { VARIANCE_TYPES, type SetTimestepsOptions, type StepOptions, type StepResult, type VarianceType } from './scheduler.js';
import { readCustomList, refuseCustomSchedule, stepCountOf } from './set-timesteps.js';
import { alphaSigmaOf, lambdaOf } from './sigmas.js';

/** DPM-Solver (ε̂ model outputs) or DPM-Solver++ (x̂0), deterministic or stochastic. */
export type DPMSolverAlgorithm = 'dpmsolver++' | 'sde-dpmsolver++' | 'dpmsolver' | 'sde-dpmsolver';

/** `DPMSolverMultistepScheduler` options (Diffusers' constructor arguments, camelCase). */
export interface DPMSolverMultistepOptions extends MultistepOptions {
  algorithmType: DPMSolverAlgorithm;
  /** How the second-order term is formed (`midpoint` recommended). */
  solverType: 'midpoint' | 'heun';
  /** A first-order last step (steadier for SDE sampling with few steps). */
  eulerAtFinal: boolean;
  /** Uniform-λ σ (Lu's DPM-Solver schedule). */
  useLuLambdas: boolean;
  /** Timesteps whose λ is below this are cut from the schedule (cosine schedule); -Infinity keeps all. */
  lambdaMinClipped: number;
  /**
   * `learned` / `learned_range`: the model also predicts its variance, ε̂ is the first half of
   * the (last-axis) channels. DDPM's other values (from a DDPM config) change nothing, as in Diffusers.
   */
  varianceType: VarianceType | null;
}

/** DPM-Solver++ 2M defaults, as in Diffusers. */
export const DPM_SOLVER_MULTISTEP_DEFAULTS: Readonly<DPMSolverMultistepOptions> = Object.freeze({
  ...MULTISTEP_DEFAULTS,
  algorithmType: 'dpmsolver++',
  solverType: 'midpoint',
  eulerAtFinal: false,
  useLuLambdas: false,
  lambdaMinClipped: -Infinity,
  varianceType: null,
});

/** Config keys and types, in Diffusers' order. */
export const DPM_SOLVER_MULTISTEP_SCHEMA: ConfigSchema<DPMSolverMultistepOptions> = {
  ...MULTISTEP_LEADING_SCHEMA,
  algorithmType: { kind: 'string', values: ['dpmsolver++', 'sde-dpmsolver++', 'dpmsolver', 'sde-dpmsolver'] },
  solverType: { kind: 'string', values: ['midpoint', 'heun'] },
  lowerOrderFinal: MULTISTEP_FIELDS.lowerOrderFinal,
  eulerAtFinal: { kind: 'boolean' },
  useKarrasSigmas: MULTISTEP_FIELDS.useKarrasSigmas,
  useExponentialSigmas: MULTISTEP_FIELDS.useExponentialSigmas,
  useBetaSigmas: MULTISTEP_FIELDS.useBetaSigmas,
  useLuLambdas: { kind: 'boolean' },
  useFlowSigmas: MULTISTEP_FIELDS.useFlowSigmas,
  flowShift: MULTISTEP_FIELDS.flowShift,
  finalSigmasType: MULTISTEP_FIELDS.finalSigmasType,
  // -Infinity by default, which JSON cannot spell: Diffusers writes `-Infinity`, we read that,
  // null and "-inf" as -Infinity (see `readLambdaMinClipped`).
  lambdaMinClipped: { kind: 'json' },
  varianceType: { kind: 'string', nullable: true, values: VARIANCE_TYPES },
  timestepSpacing: MULTISTEP_FIELDS.timestepSpacing,
  stepsOffset: MULTISTEP_FIELDS.stepsOffset,
  rescaleBetasZeroSnr: MULTISTEP_FIELDS.rescaleBetasZeroSnr,
  useDynamicShifting: MULTISTEP_FIELDS.useDynamicShifting,
  timeShiftType: { kind: 'string', values: ['exponential'] },
};

/** Diffusers' aliases (DEIS and UniPC configs load as DPM-Solver++ midpoint) and `lambda_min_clipped` spellings. */
function normaliseInput(input: unknown): unknown {
  let out = replaceAliases(input, 'algorithm_type', { deis: 'dpmsolver++' });
  out = replaceAliases(out, 'solver_type', { logrho: 'midpoint', bh1: 'midpoint', bh2: 'midpoint' });
  out = replaceAliases(out, 'lambda_min_clipped', { '-inf': -Infinity, '-Infinity': -Infinity });
  // null is how JSON writers without Infinity (ours included) spell Diffusers' default.
  for (const key of ['lambda_min_clipped', 'lambdaMinClipped']) {
    if (out !== null && typeof out === 'object' && (out as Record<string, unknown>)[key] === null)
      (out as Record<string, unknown>)[key] = -Infinity;
  }
  return out;
}

/** The float64 weights of x, D0, D1, D2 and z in one update of the given order. */
function updateWeights(algorithm: DPMSolverAlgorithm, solverType: string, order: number, sigmaS: number, sigmaT: number, h: number) {
  const s = alphaSigmaOf(sigmaS);
  const t = alphaSigmaOf(sigmaT);
  const heunLike = order === 3 || solverType === 'heun';
  if (algorithm === 'dpmsolver++' || algorithm === 'sde-dpmsolver++') {
    const sde = algorithm === 'sde-dpmsolver++';
    const decay = sde ? Math.expm1(-2 * h) : Math.expm1(-h); // e^{-h} - 1, or e^{-2h} - 1 for the SDE
    const d0 = -t.alpha * decay;
    const d1 = heunLike ? t.alpha * (sde ? decay / (2 * h) + 1 : decay / h + 1) : 0.5 * d0;
    const d2 = sde ? t.alpha * ((-decay - 2 * h) / (2 * h) ** 2 - 0.5) : -t.alpha * ((decay + h) / h ** 2 - 0.5);
    const x = sde ? (t.sigma / s.sigma) * Math.exp(-h) : t.sigma / s.sigma;
    return { x, d0, d1, d2, noise: sde ? t.sigma * Math.sqrt(-decay) : 0 };
  }
  const sde = algorithm === 'sde-dpmsolver';
  const growth = Math.expm1(h); // e^{h} - 1
  const d0 = -(sde ? 2 : 1) * t.sigma * growth;
  const d1 = heunLike ? -(sde ? 2 : 1) * t.sigma * (growth / h - 1) : 0.5 * d0;
  const d2 = -t.sigma * ((growth - h) / h ** 2 - 0.5);
  return { x: t.alpha / s.alpha, d0, d1, d2, noise: sde ? t.sigma * Math.sqrt(Math.expm1(2 * h)) : 0 };
}

/**
 * DPM-Solver++ multistep sampler ("DPM++ 2M", "DPM++ 2M Karras", "DPM++ 2M SDE", "DPM++ 3M"): the
 * most used fast sampler of Stable Diffusion. `setTimesteps` first; then call `step` once per
 * scheduled timestep, in order. SDE variants draw one `normal(count)` per step from the step's
 * `generator` (or take `varianceNoise`).
 */
export class DPMSolverMultistepScheduler extends MultistepScheduler<DPMSolverMultistepOptions> {
  /** Diffusers' class name. */
  static readonly className = 'DPMSolverMultistepScheduler';
  /** Schedulers that can be built from this scheduler's config (Diffusers' `KarrasDiffusionSchedulers`). */
  static readonly compatibles: readonly string[] = DIFFUSERS_COMPATIBLE_NAMES;
  readonly className = DPMSolverMultistepScheduler.className;

  /** Creates a scheduler; `options` may be camelCase options or a Diffusers config object. */
  constructor(options: Partial<DPMSolverMultistepOptions> = {}) {
    super(normaliseInput(options), DPM_SOLVER_MULTISTEP_SCHEMA, DPM_SOLVER_MULTISTEP_DEFAULTS, DPMSolverMultistepScheduler.className);
    const { algorithmType, solverOrder, finalSigmasType, lambdaMinClipped, useLuLambdas } = this.config;
    const where = DPMSolverMultistepScheduler.className;
    if (typeof lambdaMinClipped !== 'number' || Number.isNaN(lambdaMinClipped) || lambdaMinClipped === Infinity) {
      const value: unknown = lambdaMinClipped;
      const kind = Array.isArray(value) ? 'an array' : 'an object';
      const got = value !== null && typeof value === 'object' ? kind : String(value).slice(0, 40);
      throw new ConfigError(`${where}: lambdaMinClipped must be a number or -Infinity, got ${got}`, 'lambda_min_clipped');
    }
    if (!algorithmType.endsWith('++') && finalSigmasType === 'zero') {
      throw new ConfigError(
        `${where}: finalSigmasType 'zero' is not supported for algorithmType '${algorithmType}' (use 'sigma_min')`,
        'final_sigmas_type',
      );
    }
    if (algorithmType === 'sde-dpmsolver' && solverOrder === 3) {
      throw new ConfigError(`${where}: algorithmType 'sde-dpmsolver' has no third-order update (solverOrder 1 or 2)`, 'solver_order');
    }
    if (useLuLambdas && (this.config.useKarrasSigmas || this.config.useExponentialSigmas || this.config.useBetaSigmas)) {
      throw new ConfigError(`${where}: useLuLambdas cannot be combined with Karras, exponential or beta sigmas`, 'use_lu_lambdas');
    }
    if (this.unclippedTimesteps() === 0) {
      const message = `${where}: lambdaMinClipped ${lambdaMinClipped} is above the λ of every training timestep: nothing is left to sample`;
      throw new ConfigError(message, 'lambda_min_clipped');
    }
  }

  /** The training timesteps whose λ = log sqrt(ᾱ) - log sqrt(1 - ᾱ) (float32) is not below `lambdaMinClipped`. */
  private unclippedTimesteps(): number {
    const f32 = Math.fround;
    const clipped = Array.from(this.alphasCumprod).filter((alphaBar) => {
      const lambda = f32(Math.log(f32(Math.sqrt(alphaBar))) - Math.log(f32(Math.sqrt(f32(1 - alphaBar)))));
      return lambda < this.config.lambdaMinClipped;
    }).length;
    return this.config.numTrainTimesteps - clipped;
  }

  /**
   * Sets `numInferenceSteps` timesteps (Diffusers' spacing for multistep solvers), or the given
   * descending integer `timesteps`, and their σ.
   */
  override setTimesteps(numInferenceSteps?: number, options: SetTimestepsOptions = {}): void {
    refuseCustomSchedule(options, ['timesteps'], this.className);
    const { config } = this;
    const total = config.numTrainTimesteps;
    let timesteps: number[];
    if (options.timesteps !== undefined) {
      stepCountOf(numInferenceSteps, options.timesteps.length, this.className);
      const respaced = ['useKarrasSigmas', 'useExponentialSigmas', 'useBetaSigmas', 'useLuLambdas'] as const;
      const set = respaced.find((flag) => config[flag]);
      if (set !== undefined) throw new RangeError(`${this.className}.setTimesteps: custom timesteps cannot be used with ${set}`);
      timesteps = readCustomList(options.timesteps, 'timesteps', this.className);
      const bad = timesteps.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= total);
      if (bad >= 0)
        throw new RangeError(`${this.className}.setTimesteps: timesteps[${bad}] = ${timesteps[bad]} is not an integer in [0, ${total})`);
    } else {
      assertInferenceSteps(numInferenceSteps, total, this.className);
      const kept = this.unclippedTimesteps();
      if (numInferenceSteps > kept) {
        throw new RangeError(
          `${this.className}.setTimesteps: lambdaMinClipped ${config.lambdaMinClipped} keeps ${kept} training timesteps, ` +
            `fewer than numInferenceSteps (${numInferenceSteps})`,
        );
      }
      timesteps = multistepTimesteps(numInferenceSteps, config, kept);
    }
    const cosine = config.betaSchedule === 'squaredcos_cap_v2';
    const roundRespaced = (config.useKarrasSigmas || config.useLuLambdas) && !cosine;
    this.install(multistepSchedule(this.trainSigmas, config, { timesteps, roundRespaced, luLambdas: config.useLuLambdas }, this.className));
  }

  step(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options: StepOptions = {}): StepResult {
    const { algorithmType, solverOrder, solverType, lowerOrderFinal, eulerAtFinal, finalSigmasType, varianceType, predictionType } =
      this.config;
    const splitVariance = (varianceType === 'learned' || varianceType === 'learned_range') && predictionType === 'epsilon';
    const outputShape = (shape: number[]) => (splitVariance ? [...shape.slice(0, -1), 2 * (shape[shape.length - 1] ?? 1)] : shape);
    const i = this.beginStep(modelOutput, timestep, sample, options, outputShape);
    const count = this.timesteps.length;
    const lastStep = i === count - 1 && (eulerAtFinal || (lowerOrderFinal && count < 15) || finalSigmasType === 'zero');
    const secondLast = i === count - 2 && lowerOrderFinal && count < 15;
    const order =
      solverOrder === 1 || this.lowerOrderNums < 1 || lastStep ? 1 : solverOrder === 2 || this.lowerOrderNums < 2 || secondLast ? 2 : 3;
    const dataMode = algorithmType.endsWith('++');
    const sigma = this.sigmas[i];

    // The model output as x̂0 (DPM-Solver++) or ε̂ (DPM-Solver), thresholded if enabled.
    const converted = tf.tidy(() => {
      const output = splitVariance ? tf.slice(modelOutput, Array<number>(sample.rank).fill(0), sample.shape) : modelOutput;
      if (dataMode) return this.dataPrediction(output, sample, sigma);
      const noise = this.noisePrediction(output, sample, sigma);
      return this.config.thresholding ? this.noiseFromData(this.threshold(this.dataFromNoise(noise, sample, sigma)), sample, sigma) : noise;
    });
    this.remember(converted);

    const lambdas = [i + 1, i, i - 1, i - 2].map((k) => (k >= 0 ? lambdaOf(this.sigmas[k]) : NaN));
    const h = lambdas[0] - lambdas[1];
    const w = updateWeights(algorithmType, solverType, order, sigma, this.sigmas[i + 1], h);
    const m = [...this.history].reverse(); // m0, m1, m2
    return tf.tidy(() => {
      const terms: [number, tf.Tensor][] = [[w.x, sample]];
      if (order === 1) terms.push([w.d0, m[0]]);
      else if (order === 2) {
        const r0 = (lambdas[1] - lambdas[2]) / h;
        terms.push([w.d0 + w.d1 / r0, m[0]], [-w.d1 / r0, m[1]]);
      } else {
        const r0 = (lambdas[1] - lambdas[2]) / h;
        const r1 = (lambdas[2] - lambdas[3]) / h;
        // d1 D1 + d2 D2 = u D1_0 + v D1_1 with D1_k = (m_k - m_{k+1}) / r_k (D1, D2 as in the header).
        const u = w.d1 * (1 + r0 / (r0 + r1)) + w.d2 / (r0 + r1);
        const v = -(w.d1 * r0) / (r0 + r1) - w.d2 / (r0 + r1);
        terms.push([w.d0 + u / r0, m[0]], [-u / r0 + v / r1, m[1]], [-v / r1, m[2]]);
      }
      if (algorithmType.startsWith('sde')) terms.push([w.noise, drawNoise(sample, options, `${this.className}.step`)]);
      // A zero-length step (respaced σ ending at σ_min, then final σ_min) keeps x; Diffusers'
      // heun and third-order weights are 0/0 (NaN) there, its midpoint gives x too.
      const prevSample = h === 0 ? tf.clone(sample) : combine(terms);
      const predOriginalSample = dataMode ? converted : this.dataFromNoise(converted, sample, sigma);
      if (!dataMode) converted.dispose();
      this.endStep();
      return { prevSample, predOriginalSample };
    });
  }

  /** ε̂ = (x - α_t x̂0) / σ_t; call inside `tf.tidy`. */
  private noiseFromData(data: tf.Tensor, sample: tf.Tensor, sigma: number): tf.Tensor {
    const { alpha, sigma: sigmaT } = alphaSigmaOf(sigma);
    return tf.div(tf.sub(sample, tf.mul(data, alpha)), sigmaT);
  }
}
