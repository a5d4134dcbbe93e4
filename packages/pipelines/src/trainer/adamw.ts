/**
 * AdamW (Loshchilov & Hutter; PyTorch's `torch.optim.AdamW` update order) over a fixed list of
 * `tf.Variable`s, with its moment estimates held as variables so that a checkpoint stores and
 * restores the optimizer state exactly.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Options of `AdamW`. */
export interface AdamWOptions {
  /** Peak learning rate (default 1e-3). */
  learningRate?: number;
  /** Linear warm-up from 0 over this many steps (default 0). */
  warmupSteps?: number;
  /** β1 (default 0.9). */
  beta1?: number;
  /** β2 (default 0.999). */
  beta2?: number;
  /** ε (default 1e-8). */
  epsilon?: number;
  /** Decoupled weight decay (default 0.01). */
  weightDecay?: number;
}

/** AdamW with linear learning-rate warm-up. */
export class AdamW {
  readonly learningRate: number;
  readonly warmupSteps: number;
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
    if (!Number.isInteger(this.warmupSteps) || this.warmupSteps < 0) throw new RangeError(`AdamW: warmupSteps must be a non-negative integer, got ${this.warmupSteps}`);
    this.beta1 = unit(options.beta1 ?? 0.9, 'beta1');
    this.beta2 = unit(options.beta2 ?? 0.999, 'beta2');
    this.epsilon = positive(options.epsilon ?? 1e-8, 'epsilon');
    this.weightDecay = options.weightDecay ?? 0.01;
    if (!(this.weightDecay >= 0)) throw new RangeError(`AdamW: weightDecay must be >= 0, got ${this.weightDecay}`);
    this.firstMoments = variables.map((v) => tf.variable(tf.zerosLike(v), false));
    this.secondMoments = variables.map((v) => tf.variable(tf.zerosLike(v), false));
  }

  /** The learning rate of update number `step` (1-based): linear warm-up, then constant. */
  learningRateAt(step: number): number {
    return this.warmupSteps > 0 ? this.learningRate * Math.min(1, step / this.warmupSteps) : this.learningRate;
  }

  /** Applies one update with `gradients` (one per variable, same order). */
  applyGradients(gradients: readonly tf.Tensor[]): void {
    if (gradients.length !== this.variables.length) {
      throw new RangeError(`AdamW: got ${gradients.length} gradients for ${this.variables.length} variables`);
    }
    this.stepCount += 1;
    const t = this.stepCount;
    const lr = this.learningRateAt(t);
    const correction1 = 1 - this.beta1 ** t;
    const correction2 = 1 - this.beta2 ** t;
    const stepSize = lr / correction1;
    const sqrtCorrection2 = Math.sqrt(correction2);
    tf.tidy(() => {
      this.variables.forEach((variable, i) => {
        const gradient = gradients[i];
        const m = tf.add(tf.mul(this.firstMoments[i], this.beta1), tf.mul(gradient, 1 - this.beta1));
        const v = tf.add(tf.mul(this.secondMoments[i], this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        this.firstMoments[i].assign(m);
        this.secondMoments[i].assign(v);
        const decayed = this.weightDecay > 0 ? tf.mul(variable, 1 - lr * this.weightDecay) : variable;
        const denominator = tf.add(tf.div(tf.sqrt(v), sqrtCorrection2), this.epsilon);
        variable.assign(tf.sub(decayed, tf.mul(tf.div(m, denominator), stepSize)));
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
