/**
 * What the multistep solvers (DPM-Solver++, UniPC) share at run time: the step counter and the
 * history of converted model outputs, the data / noise view of a model output, the weighted sum
 * of an update, and `addNoise` at scheduled σ.
 *
 * Symbols (DPM-Solver, Lu et al. 2022): σ = sqrt((1 - ᾱ) / ᾱ) is the schedule's noise level,
 * α_t = 1 / sqrt(1 + σ²) and σ_t = σ α_t the variance-preserving pair, λ = log α_t - log σ_t.
 * A step goes from s0 = sigmas[i] to t = sigmas[i + 1]; h = λ_t - λ_s0.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ConfigSchema } from '@diffusion-ts/core';
import { DiscreteScheduler } from './discrete-scheduler.js';
import { checkMultistepOptions, MULTISTEP_SCHEDULES, type MultistepOptions } from './multistep-config.js';
import { assertFinite, assertSameShape, readTimesteps, type StepOptions, type TimestepsInput } from './scheduler.js';
import { alphaSigmaOf, sigmasFromAlphasCumprod } from './sigmas.js';
import { stepPosition } from './step-index.js';
import { dynamicThreshold } from './thresholding.js';

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
  protected stepIndex: number | null = null;
  /** Steps taken so far, capped at `solverOrder` (the warm-up of the multistep formulas). */
  protected lowerOrderNums = 0;
  /** Converted model outputs of the last `solverOrder` steps, oldest first. */
  protected history: tf.Tensor[] = [];

  protected constructor(input: unknown, schema: ConfigSchema<T>, defaults: T, className: string) {
    super(input, schema, defaults, className, MULTISTEP_SCHEDULES);
    checkMultistepOptions(this.config, className);
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
    if (options.varianceNoise !== undefined) assertSameShape(options.varianceNoise, 'varianceNoise', sample, 'sample', context);
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
