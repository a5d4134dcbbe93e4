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
import { mixPerItem } from './forward-process.js';
import { assertFinite, assertSameShape, assertTensor } from './input-checks.js';
import type { StepOptions, TimestepsInput } from './scheduler.js';
import { alphaSigmaOf, trainSigmasOf } from './sigmas.js';
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
    this.trainSigmas = trainSigmasOf(this.alphasCumprod, this.config, className);
  }

  /** Installs a schedule and forgets the previous run. */
  protected install(schedule: { timesteps: number[]; sigmas: Float64Array }): void {
    for (let i = 1; i < schedule.sigmas.length - 1; i += 1) {
      if (!(schedule.sigmas[i] < schedule.sigmas[i - 1])) {
        throw new RangeError(
          `${this.className}.setTimesteps: the schedule repeats σ ${schedule.sigmas[i]} (timestep ${schedule.timesteps[i]}): use fewer inference steps`,
        );
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
   * `outputShape` gives the model output's shape from the sample's (default: the same).
   */
  protected beginStep(
    modelOutput: tf.Tensor,
    timestep: number,
    sample: tf.Tensor,
    options: StepOptions,
    outputShape: (sampleShape: number[]) => number[] = (shape) => shape,
  ): number {
    const context = `${this.className}.step`;
    if (this.numInferenceSteps === null) throw new Error(`${context}: numInferenceSteps is not set; call setTimesteps(n) before step()`);
    const position = stepPosition(this.timesteps, this.stepIndex, timestep, context);
    assertTensor(modelOutput, 'modelOutput', context);
    assertTensor(sample, 'sample', context);
    const expected = outputShape(sample.shape);
    if (sample.dtype !== 'float32') throw new TypeError(`${context}: sample must be a float32 tensor, got ${sample.dtype}`);
    if (!tf.util.arraysEqual(modelOutput.shape, expected)) {
      throw new RangeError(`${context}: modelOutput shape [${modelOutput.shape.join(', ')}] does not match [${expected.join(', ')}]`);
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
    // σ per training timestep: the schedule's where scheduled (the second entry of a repeated
    // timestep, as Diffusers' index_for_timestep), else the training table's.
    const sigmas = Float64Array.from(this.trainSigmas);
    if (this.numInferenceSteps !== null) {
      const seen = new Map<number, number>();
      this.timesteps.forEach((t, i) => {
        const count = seen.get(t) ?? 0;
        if (count < 2) sigmas[t] = this.sigmas[i];
        seen.set(t, count + 1);
      });
    }
    const pairs = Array.from(sigmas, (sigma) => alphaSigmaOf(sigma));
    const tables = [Float64Array.from(pairs, (pair) => pair.alpha), Float64Array.from(pairs, (pair) => pair.sigma)] as const;
    return mixPerItem(tables, ['originalSamples', originalSamples], ['noise', noise], timesteps, 1, `${this.className}.addNoise`);
  }
}

/** Σ w_k x_k over the terms with a non-zero weight (float32 tensors, float64 weights); call inside `tf.tidy`. */
export function combine(terms: readonly (readonly [number, tf.Tensor])[]): tf.Tensor {
  const used = terms.filter(([weight]) => weight !== 0);
  if (used.length === 0) return tf.zerosLike(terms[0][1]);
  const scaled = used.map(([weight, tensor]) => tf.mul(tensor, weight));
  return scaled.length === 1 ? scaled[0] : tf.addN(scaled);
}
