/**
 * What the multistep solvers (DPM-Solver++, UniPC) share: their timestep spacing, their σ
 * schedule, the step counter and history of converted model outputs, the data / noise view of a
 * model output, and `addNoise` at scheduled σ.
 *
 * Symbols (DPM-Solver, Lu et al. 2022): σ = sqrt((1 - ᾱ) / ᾱ) is the schedule's noise level,
 * α_t = 1 / sqrt(1 + σ²) and σ_t = σ α_t the variance-preserving pair, λ = log α_t - log σ_t.
 * A step goes from s0 = sigmas[i] to t = sigmas[i + 1]; h = λ_t - λ_s0.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, toCamelCase, type ConfigSchema } from '@diffusion-ts/core';
import { DiscreteScheduler } from './discrete-scheduler.js';
import { numpyArange, numpyLinspace, roundHalfToEven, type BetaSchedule, type SpacingOptions } from './schedule.js';
import { assertFinite, assertSameShape, readTimesteps, type CommonOptions, type StepOptions, type TimestepsInput } from './scheduler.js';
import { alphaSigmaOf, logSigmas, respaceSigmas, sigmaAtTimestep, sigmaSpacingOf, sigmasFromAlphasCumprod, sigmaToTimestep } from './sigmas.js';
import { stepPosition } from './step-index.js';
import { dynamicThreshold } from './thresholding.js';

/** The options DPM-Solver and UniPC share (Diffusers' constructor arguments, camelCase). */
export interface MultistepOptions extends CommonOptions {
  solverOrder: number;
  thresholding: boolean;
  dynamicThresholdingRatio: number;
  sampleMaxValue: number;
  lowerOrderFinal: boolean;
  useKarrasSigmas: boolean;
  useExponentialSigmas: boolean;
  useBetaSigmas: boolean;
  /** Flow-matching σ (not supported here: `true` is refused). */
  useFlowSigmas: boolean;
  flowShift: number;
  /** The σ after the last step: 0, or σ of training timestep 0. */
  finalSigmasType: 'zero' | 'sigma_min';
  rescaleBetasZeroSnr: boolean;
  /** Flow matching only (refused when `true`). */
  useDynamicShifting: boolean;
  timeShiftType: 'exponential' | 'linear';
}

/** The beta schedules both solvers accept (Diffusers' three, plus our geometric one). */
export const MULTISTEP_SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'geometric'];

/** Schema entries shared by both solvers (each class lists its keys in Diffusers' order). */
export const MULTISTEP_FIELDS = {
  solverOrder: { kind: 'integer' },
  predictionType: { kind: 'string', values: ['epsilon', 'sample', 'v_prediction'] },
  thresholding: { kind: 'boolean' },
  dynamicThresholdingRatio: { kind: 'number' },
  sampleMaxValue: { kind: 'number' },
  lowerOrderFinal: { kind: 'boolean' },
  useKarrasSigmas: { kind: 'boolean' },
  useExponentialSigmas: { kind: 'boolean' },
  useBetaSigmas: { kind: 'boolean' },
  useFlowSigmas: { kind: 'boolean' },
  flowShift: { kind: 'number' },
  finalSigmasType: { kind: 'string', values: ['zero', 'sigma_min'] },
  timestepSpacing: { kind: 'string', values: ['linspace', 'leading', 'trailing'] },
  stepsOffset: { kind: 'integer' },
  rescaleBetasZeroSnr: { kind: 'boolean' },
  useDynamicShifting: { kind: 'boolean' },
  timeShiftType: { kind: 'string', values: ['exponential', 'linear'] },
} as const satisfies Partial<ConfigSchema<MultistepOptions>>;

/**
 * The multistep solvers' timesteps, descending (Diffusers' DPM-Solver / UniPC `set_timesteps`):
 * `linspace` rounds linspace(0, last - 1, n + 1) and drops the final 0; `leading` is
 * i · (last // (n + 1)) + stepsOffset for i = n … 1; `trailing` rounds arange(last, 0, -T / n)
 * and subtracts 1. `last` is T unless DPM-Solver's `lambdaMinClipped` cuts the schedule short.
 */
export function multistepTimesteps(count: number, options: SpacingOptions, last = options.numTrainTimesteps): number[] {
  switch (options.timestepSpacing) {
    case 'linspace':
      return numpyLinspace(0, last - 1, count + 1).map(roundHalfToEven).reverse().slice(0, -1);
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
    else sigmas = Float64Array.from(numpyLinspace(0, 1, count), (ramp) => Math.exp(logTable[logTable.length - 1] + ramp * (logTable[0] - logTable[logTable.length - 1])));
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

/**
 * A copy of a config input with Diffusers' value aliases replaced (as its constructors do with
 * `register_to_config`), under either spelling of `key` (snake_case or camelCase).
 */
export function replaceAliases(input: unknown, key: string, aliases: Readonly<Record<string, unknown>>): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  const out: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const name of [key, toCamelCase(key)]) {
    const value = out[name];
    if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(aliases, value)) out[name] = aliases[value];
  }
  return out;
}

/** Throws a `ConfigError` for what both solvers leave to flow matching, and for orders outside 1-3. */
export function refuseFlowOptions(options: MultistepOptions, className: string): void {
  if (options.useFlowSigmas) throw new ConfigError(`${className}: useFlowSigmas is not supported (use FlowMatchEulerDiscreteScheduler for flow-matching models)`, 'use_flow_sigmas');
  if (options.useDynamicShifting) throw new ConfigError(`${className}: useDynamicShifting needs flow sigmas, which are not supported`, 'use_dynamic_shifting');
  if (!Number.isInteger(options.solverOrder) || options.solverOrder < 1 || options.solverOrder > 3) {
    throw new ConfigError(`${className}: solverOrder must be 1, 2 or 3, got ${options.solverOrder}`, 'solver_order');
  }
}

/**
 * The shared state machine of the multistep solvers: σ schedule, step counter (Diffusers'
 * `step_index`), warm-up counter (`lower_order_nums`) and the history of converted model outputs.
 * History tensors are kept outside any `tidy` and freed when they leave the window, at the end of
 * the schedule, by `setTimesteps` and by `dispose`.
 */
export abstract class MultistepScheduler<T extends MultistepOptions> extends DiscreteScheduler<T> {
  /** σ of each training timestep (ascending t, float32 values). */
  readonly trainSigmas: Float64Array;
  /** σ of each scheduled timestep plus the final σ (float32 values); empty before `setTimesteps`. */
  sigmas: Float64Array = new Float64Array(0);
  /** Index of the next step in `timesteps` (`null` before a run). */
  stepIndex: number | null = null;
  /** Steps taken so far, capped at `solverOrder` (the warm-up of the multistep formulas). */
  protected lowerOrderNums = 0;
  /** Converted model outputs of the last `solverOrder` steps, oldest first. */
  protected history: tf.Tensor[] = [];

  protected constructor(input: unknown, schema: ConfigSchema<T>, defaults: T, className: string) {
    super(input, schema, defaults, className, MULTISTEP_SCHEDULES);
    refuseFlowOptions(this.config, className);
    try {
      sigmaSpacingOf(this.config, className);
    } catch (error) {
      throw new ConfigError((error as Error).message, 'use_karras_sigmas');
    }
    // Diffusers keeps ᾱ_T - 1 just above 0 so that σ and λ stay finite with zero terminal SNR.
    if (this.config.rescaleBetasZeroSnr) this.alphasCumprod[this.alphasCumprod.length - 1] = 2 ** -24;
    this.trainSigmas = sigmasFromAlphasCumprod(this.alphasCumprod);
  }

  /** Installs a schedule and forgets the previous run. */
  protected install(schedule: { timesteps: number[]; sigmas: Float64Array }): void {
    for (let i = 1; i < schedule.sigmas.length - 1; i += 1) {
      if (!(schedule.sigmas[i] < schedule.sigmas[i - 1])) {
        throw new RangeError(`${this.className}.setTimesteps: the schedule repeats σ ${schedule.sigmas[i]} (timestep ${schedule.timesteps[i]}): use fewer inference steps`);
      }
    }
    this.timesteps = schedule.timesteps;
    this.sigmas = schedule.sigmas;
    this.numInferenceSteps = schedule.timesteps.length;
    this.dispose();
  }

  /**
   * Checks a step and returns its index (`stepPosition`): a timestep that does not continue the
   * run (a new loop, img2img's first step) starts a new run from it, with an empty history.
   */
  protected beginStep(modelOutput: tf.Tensor, timestep: number, sample: tf.Tensor, options: StepOptions, outputShape = sample.shape): number {
    const context = `${this.className}.step`;
    if (this.numInferenceSteps === null) throw new Error(`${context}: numInferenceSteps is not set; call setTimesteps(n) before step()`);
    const position = stepPosition(this.timesteps, this.stepIndex, timestep, context);
    if (sample.dtype !== 'float32') throw new TypeError(`${context}: sample must be a float32 tensor, got ${sample.dtype}`);
    if (modelOutput.shape.length !== outputShape.length || modelOutput.shape.some((size, i) => size !== outputShape[i])) {
      throw new RangeError(`${context}: modelOutput shape [${modelOutput.shape.join(', ')}] does not match [${outputShape.join(', ')}]`);
    }
    if (modelOutput.dtype !== 'float32') throw new TypeError(`${context}: modelOutput must be a float32 tensor, got ${modelOutput.dtype}`);
    if (options.checkFinite !== false) assertFinite({ modelOutput, sample, varianceNoise: options.varianceNoise }, context);
    if (position.restart) this.dispose();
    this.stepIndex = position.index;
    return position.index;
  }

  /** Appends a converted model output to the window of the last `solverOrder`. */
  protected remember(output: tf.Tensor): void {
    this.history.push(tf.keep(tf.clone(output)));
    while (this.history.length > this.config.solverOrder) this.history.shift()!.dispose();
  }

  /** Advances the counters; frees the history after the last step (the next step starts a new run). */
  protected endStep(): void {
    if (this.lowerOrderNums < this.config.solverOrder) this.lowerOrderNums += 1;
    this.stepIndex = this.stepIndex! + 1;
    if (this.stepIndex === this.timesteps.length) this.dispose();
  }

  /** Frees the kept tensors (subclasses add theirs). */
  protected releaseHistory(): void {
    tf.dispose(this.history);
    this.history = [];
  }

  /** Frees the history; the next step starts a new run. */
  override dispose(): void {
    this.releaseHistory();
    this.stepIndex = null;
    this.lowerOrderNums = 0;
  }

  /** x̂0 of a model output at σ, thresholded if enabled; call inside `tf.tidy`. */
  protected dataPrediction(modelOutput: tf.Tensor, sample: tf.Tensor, sigma: number): tf.Tensor {
    const { alpha, sigma: sigmaT } = alphaSigmaOf(sigma);
    const { predictionType } = this.config;
    let x0: tf.Tensor;
    if (predictionType === 'epsilon') x0 = tf.div(tf.sub(sample, tf.mul(modelOutput, sigmaT)), alpha);
    else if (predictionType === 'sample') x0 = modelOutput;
    else x0 = tf.sub(tf.mul(sample, alpha), tf.mul(modelOutput, sigmaT));
    return this.threshold(x0);
  }

  /** Dynamic thresholding of x̂0 when enabled (else x̂0 itself); call inside `tf.tidy`. */
  protected threshold(x0: tf.Tensor): tf.Tensor {
    return this.config.thresholding ? dynamicThreshold(x0, this.config.dynamicThresholdingRatio, this.config.sampleMaxValue) : x0;
  }

  /** ε̂ of a model output at σ (no thresholding); call inside `tf.tidy`. */
  protected noisePrediction(modelOutput: tf.Tensor, sample: tf.Tensor, sigma: number): tf.Tensor {
    const { alpha, sigma: sigmaT } = alphaSigmaOf(sigma);
    const { predictionType } = this.config;
    if (predictionType === 'epsilon') return modelOutput;
    if (predictionType === 'sample') return tf.div(tf.sub(sample, tf.mul(modelOutput, alpha)), sigmaT);
    return tf.add(tf.mul(modelOutput, alpha), tf.mul(sample, sigmaT));
  }

  /** x̂0 = (x - σ_t ε̂) / α_t; call inside `tf.tidy`. */
  protected dataFromNoise(noise: tf.Tensor, sample: tf.Tensor, sigma: number): tf.Tensor {
    const { alpha, sigma: sigmaT } = alphaSigmaOf(sigma);
    return tf.div(tf.sub(sample, tf.mul(noise, sigmaT)), alpha);
  }

  /**
   * α_t x0 + σ_t noise. At a scheduled timestep σ is the schedule's (as in Diffusers, so that
   * img2img starts exactly where the solver expects); elsewhere σ is the training table's.
   */
  override addNoise(originalSamples: tf.Tensor, noise: tf.Tensor, timesteps: TimestepsInput): tf.Tensor {
    const context = `${this.className}.addNoise`;
    assertSameShape(originalSamples, 'originalSamples', noise, 'noise', context);
    assertFinite({ originalSamples, noise }, context);
    const values = readTimesteps(timesteps, this.config.numTrainTimesteps, context);
    const batch = originalSamples.rank === 0 ? 1 : originalSamples.shape[0];
    if (values.length !== 1 && values.length !== batch) throw new RangeError(`${context}: got ${values.length} timesteps for a batch of ${batch}`);
    const pairs = values.map((t) => {
      const matches = this.numInferenceSteps === null ? [] : this.timesteps.flatMap((s, i) => (s === t ? [i] : []));
      return alphaSigmaOf(matches.length > 0 ? this.sigmas[matches[Math.min(1, matches.length - 1)]] : this.trainSigmas[t]);
    });
    const shape = [values.length, ...Array<number>(Math.max(originalSamples.rank - 1, 0)).fill(1)];
    return tf.tidy(() => {
      const column = (field: 'alpha' | 'sigma') => tf.tensor(Float32Array.from(pairs, (pair) => pair[field]), originalSamples.rank === 0 ? [] : shape);
      return tf.add(tf.mul(originalSamples, column('alpha')), tf.mul(noise, column('sigma')));
    });
  }
}

/** Σ w_k x_k over the terms with a non-zero weight (float32 tensors, float64 weights); call inside `tf.tidy`. */
export function combine(terms: readonly (readonly [number, tf.Tensor])[]): tf.Tensor {
  const used = terms.filter(([weight]) => weight !== 0);
  if (used.length === 0) return tf.zerosLike(terms[0][1]);
  const scaled = used.map(([weight, tensor]) => tf.mul(tensor, weight));
  return scaled.length === 1 ? scaled[0] : tf.addN(scaled);
}
