/**
 * The fused kernels that `@diffusion-ts/core`'s ops run where a backend registers them, and that
 * this package registers for the wasm backend: their names, inputs and attributes, defined once.
 *
 * This module is the contract's single source. It is pure (no tfjs, no Node, no addon), exported
 * as `@diffusion-ts/native/fused-kernels`, and core builds it into its own bundle and declarations
 * (core lists this package only as an optional peer, so it cannot import it at run time).
 */

/** SiLU's forward pass, x · sigmoid(x): inputs `SiluInputs`; one output shaped like `x`. */
export const SILU_KERNEL = 'DiffusionTsSilu';

/** SiLU's gradient, dy · s · (1 + x (1 - s)) with s = sigmoid(x): inputs `SiluGradInputs`; one output shaped like `x`. */
export const SILU_GRAD_KERNEL = 'DiffusionTsSiluGrad';

/**
 * One AdamW update of one variable: inputs `AdamWUpdateInputs` (all one shape), attributes
 * `AdamWUpdateAttributes`; outputs the new variable, first moment and second moment.
 */
export const ADAMW_UPDATE_KERNEL = 'DiffusionTsAdamWUpdate';

/**
 * GroupNorm's forward pass: inputs `GroupNormInputs`, attributes `GroupNormAttributes`; outputs the
 * normalised value [B, HW, C], the centred input [B, HW, C] and 1/σ per image and channel [B, 1, C].
 */
export const GROUP_NORM_KERNEL = 'DiffusionTsGroupNorm';

/** Inputs of `SILU_KERNEL`. */
export interface SiluInputs<T> {
  x: T;
}

/** Inputs of `SILU_GRAD_KERNEL`: the forward pass's input and the upstream gradient. */
export interface SiluGradInputs<T> {
  x: T;
  dy: T;
}

/** Inputs of `ADAMW_UPDATE_KERNEL`. */
export interface AdamWUpdateInputs<T> {
  variable: T;
  gradient: T;
  firstMoment: T;
  secondMoment: T;
}

/** Attributes of `ADAMW_UPDATE_KERNEL` (float64 numbers; kernels round them to float32). */
export interface AdamWUpdateAttributes {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** 1 - beta1^t. */
  correction1: number;
  /** 1 - beta2^t. */
  correction2: number;
}

/** Inputs of `GROUP_NORM_KERNEL`: x [B, HW, C] (NHWC with the pixels flattened), gamma and beta [C]. */
export interface GroupNormInputs<T> {
  x: T;
  gamma: T;
  beta: T;
}

/** Attributes of `GROUP_NORM_KERNEL`: groups of consecutive channels (dividing C), and ε added to the variance. */
export interface GroupNormAttributes {
  groups: number;
  epsilon: number;
}
