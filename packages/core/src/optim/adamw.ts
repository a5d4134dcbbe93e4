/**
 * AdamW (Loshchilov & Hutter; PyTorch's `torch.optim.AdamW` update order) over a fixed list of
 * `tf.Variable`s, with its moment estimates held as variables so that a checkpoint stores and
 * restores the optimizer state exactly. Each variable's update is one kernel
 * (`ADAMW_UPDATE_KERNEL`) where the backend has one (wasm with `@diffusion-ts/native`), else the
 * same arithmetic composed from tfjs ops.
 */
// The fused kernel's contract is @diffusion-ts/native's: its types are erased here and its name
// is built into core's bundle, so core runs without that optional package.
import { ADAMW_UPDATE_KERNEL, type AdamWUpdateAttributes, type AdamWUpdateInputs } from '@diffusion-ts/native/fused-kernels';
import * as tf from '@tensorflow/tfjs-core';

/**
 * One AdamW step for one variable, returning [variable', m', v'] without assigning them:
 * m' = β1·m + (1-β1)·g, v' = β2·v + (1-β2)·g², w' = w·(1 - lr·λ) - (lr / c1) · m' / (√v' / √c2 + ε).
 */
export function adamWUpdate(
  variable: tf.Tensor,
  gradient: tf.Tensor,
  firstMoment: tf.Tensor,
  secondMoment: tf.Tensor,
  attributes: AdamWUpdateAttributes,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const backend = tf.getBackend();
  if (variable.dtype === 'float32' && gradient.dtype === 'float32' && tf.getKernel(ADAMW_UPDATE_KERNEL, backend) !== undefined) {
    const inputs: AdamWUpdateInputs<tf.Tensor> = { variable, gradient, firstMoment, secondMoment };
    const outputs = tf
      .engine()
      .runKernel<tf.Tensor[]>(ADAMW_UPDATE_KERNEL, inputs as unknown as tf.NamedTensorMap, attributes as unknown as tf.NamedAttrMap);
    return [outputs[0], outputs[1], outputs[2]];
  }
  const { learningRate: lr, beta1, beta2, epsilon, weightDecay, correction1, correction2 } = attributes;
  return tf.tidy(() => {
    const m = tf.add(tf.mul(firstMoment, beta1), tf.mul(gradient, 1 - beta1));
    const v = tf.add(tf.mul(secondMoment, beta2), tf.mul(tf.square(gradient), 1 - beta2));
    const decayed = weightDecay > 0 ? tf.mul(variable, 1 - lr * weightDecay) : variable;
    const denominator = tf.add(tf.div(tf.sqrt(v), Math.sqrt(correction2)), epsilon);
    const updated = tf.sub(decayed, tf.mul(tf.div(m, denominator), lr / correction1));
    return [updated, m, v] as [tf.Tensor, tf.Tensor, tf.Tensor];
  });
}

/** The learning-rate shapes after warm-up (Diffusers' `--lr_scheduler` names). */
export const LEARNING_RATE_SCHEDULES = ['constant', 'linear', 'cosine'] as const;
/** One of `LEARNING_RATE_SCHEDULES`. */
export type LearningRateSchedule = (typeof LEARNING_RATE_SCHEDULES)[number];

/** Options of `AdamW`. */
export interface AdamWOptions {
  /** Peak learning rate (default 1e-3). */
  learningRate?: number;
  /** Linear warm-up from 0 over this many steps (default 0). */
  warmupSteps?: number;
  /**
   * After warm-up: `constant` (default) keeps the peak rate; `linear` and `cosine` decay it to 0 at
   * `totalSteps`, as Diffusers' `get_scheduler` does with the same names.
   */
  schedule?: LearningRateSchedule;
  /** The run's last update, where a decaying schedule reaches 0 (needed unless `constant`). */
  totalSteps?: number;
  /** β1 (default 0.9). */
  beta1?: number;
  /** β2 (default 0.999). */
  beta2?: number;
  /** ε (default 1e-8). */
  epsilon?: number;
  /** Decoupled weight decay (default 0.01). */
  weightDecay?: number;
}

/** AdamW with linear learning-rate warm-up and an optional decay to 0. */
export class AdamW {
  readonly learningRate: number;
  readonly warmupSteps: number;
  readonly schedule: LearningRateSchedule;
  /** The update where a decaying schedule reaches 0 (undefined for `constant`). */
  readonly totalSteps: number | undefined;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** First moments, one per variable. */
  readonly firstMoments: tf.Variable[];
  /** Second moments, one per variable. */
  readonly secondMoments: tf.Variable[];
  /** Updates applied so far. */
  stepCount = 0;

  constructor(
    readonly variables: readonly tf.Variable[],
    options: AdamWOptions = {},
  ) {
    this.learningRate = positive(options.learningRate ?? 1e-3, 'learningRate');
    this.warmupSteps = options.warmupSteps ?? 0;
    if (!Number.isInteger(this.warmupSteps) || this.warmupSteps < 0)
      throw new RangeError(`AdamW: warmupSteps must be a non-negative integer, got ${this.warmupSteps}`);
    this.schedule = options.schedule ?? 'constant';
    if (!LEARNING_RATE_SCHEDULES.includes(this.schedule))
      throw new RangeError(`AdamW: schedule must be one of ${LEARNING_RATE_SCHEDULES.join(', ')}, got '${String(this.schedule)}'`);
    this.totalSteps = this.schedule === 'constant' ? undefined : options.totalSteps;
    if (this.totalSteps !== undefined && !(Number.isInteger(this.totalSteps) && this.totalSteps > this.warmupSteps))
      throw new RangeError(`AdamW: totalSteps must be an integer above warmupSteps (${this.warmupSteps}), got ${this.totalSteps}`);
    if (this.schedule !== 'constant' && this.totalSteps === undefined)
      throw new RangeError(`AdamW: the '${this.schedule}' schedule needs totalSteps`);
    this.beta1 = unit(options.beta1 ?? 0.9, 'beta1');
    this.beta2 = unit(options.beta2 ?? 0.999, 'beta2');
    this.epsilon = positive(options.epsilon ?? 1e-8, 'epsilon');
    this.weightDecay = options.weightDecay ?? 0.01;
    if (!(this.weightDecay >= 0)) throw new RangeError(`AdamW: weightDecay must be >= 0, got ${this.weightDecay}`);
    // tidy frees the zero tensors the moments start from (variables survive it).
    this.firstMoments = tf.tidy(() => variables.map((v) => tf.variable(tf.zerosLike(v), false)));
    this.secondMoments = tf.tidy(() => variables.map((v) => tf.variable(tf.zerosLike(v), false)));
  }

  /**
   * The learning rate of update number `step` (1-based): what Diffusers' `get_scheduler` with
   * the same name gives after `step` scheduler steps (its sequence one step on, so that the
   * first update does not get a zero rate): linear warm-up to the peak, then `constant`, or
   * `linear` / half a `cosine` down to 0 at `totalSteps`.
   */
  learningRateAt(step: number): number {
    if (step < this.warmupSteps) return (this.learningRate * step) / this.warmupSteps;
    if (this.totalSteps === undefined) return this.learningRate;
    const progress = Math.min(1, (step - this.warmupSteps) / (this.totalSteps - this.warmupSteps));
    const factor = this.schedule === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
    return this.learningRate * factor;
  }

  /** Applies one update with `gradients` (one per variable, same order). */
  applyGradients(gradients: readonly tf.Tensor[]): void {
    if (gradients.length !== this.variables.length) {
      throw new RangeError(`AdamW: got ${gradients.length} gradients for ${this.variables.length} variables`);
    }
    this.stepCount += 1;
    const t = this.stepCount;
    const attributes: AdamWUpdateAttributes = {
      learningRate: this.learningRateAt(t),
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
      correction1: 1 - this.beta1 ** t,
      correction2: 1 - this.beta2 ** t,
    };
    tf.tidy(() => {
      this.variables.forEach((variable, i) => {
        const [updated, m, v] = adamWUpdate(variable, gradients[i], this.firstMoments[i], this.secondMoments[i], attributes);
        this.firstMoments[i].assign(m);
        this.secondMoments[i].assign(v);
        variable.assign(updated);
      });
    });
  }

  /** Frees the moment variables. */
  dispose(): void {
    tf.dispose([...this.firstMoments, ...this.secondMoments]);
  }
}

function positive(value: number, name: string): number {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`AdamW: ${name} must be a positive number, got ${value}`);
  return value;
}

function unit(value: number, name: string): number {
  if (!(Number.isFinite(value) && value >= 0 && value < 1)) throw new RangeError(`AdamW: ${name} must lie in [0, 1), got ${value}`);
  return value;
}
