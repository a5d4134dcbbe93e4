/**
 * How large a model may be built from a config: a parameter count and an activation size,
 * checked from an estimate before anything is allocated. Shared by every model family.
 */
import { ConfigError, formatBytes } from '@diffusion-ts/core';

/** The most a config may ask for. */
export interface ModelBudget {
  /** Scalar parameters (default 3e9: room for SDXL's 2.6B-parameter UNet). */
  maxParameters: number;
  /** Bytes of activations one forward pass of one sample at the config's `sample_size` may need (default 64 GiB). */
  maxActivationBytes: number;
}

/** The default budget: generous enough for SDXL-class models, small enough to refuse absurd configs at once. */
export const DEFAULT_MODEL_BUDGET: Readonly<ModelBudget> = Object.freeze({
  maxParameters: 3e9,
  maxActivationBytes: 64 * 2 ** 30,
});

/** Bytes per element of the float32 weights and activations every model uses. */
export const BYTES_PER_ELEMENT = 4;

/** What an estimate of a model says about its size. */
export interface ModelSizeEstimate {
  /** Scalar parameters. */
  parameters: number;
  /** `parameters` in float32 bytes. */
  parameterBytes: number;
  /** Peak activation bytes of one forward pass at the estimate's batch and size, or `null` when no size was known. */
  activationBytes: number | null;
  /** Bytes of the largest single activation tensor at that batch and size (`null` likewise). */
  largestTensorBytes: number | null;
}

/** A model family's estimate of a config, with the sample size its activations were estimated at (for messages). */
export interface ConfigSizeEstimate {
  estimate: ModelSizeEstimate;
  /** The size the activations were estimated at, as messages write it (`64`, `64,96`), when there is one. */
  sampleSize?: string;
  /** The config key that sets that size (default `sample_size`; `max_position_embeddings` for a text encoder). */
  sizeKey?: string;
}

/** Fills in the defaults and checks the values. */
export function resolveModelBudget(budget: Partial<ModelBudget> = {}): ModelBudget {
  const resolved = { ...DEFAULT_MODEL_BUDGET, ...budget };
  for (const [name, value] of Object.entries(resolved)) {
    if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`budget.${name} must be a positive number, got ${String(value)}`);
  }
  return resolved;
}

function count(value: number): string {
  return Math.round(value).toLocaleString('en');
}

/**
 * Throws a `ConfigError` when `estimate` exceeds `budget`; `sampleSize` names the size the
 * activations were estimated at, set by the config key `sizeKey`.
 */
export function checkModelBudget(
  estimate: ModelSizeEstimate,
  budget: Partial<ModelBudget> | undefined,
  context: string,
  sampleSize?: string,
  sizeKey = 'sample_size',
): void {
  const { maxParameters, maxActivationBytes } = resolveModelBudget(budget);
  if (!(estimate.parameters <= maxParameters)) {
    throw new ConfigError(
      `${context}: the config describes ${count(estimate.parameters)} parameters (${formatBytes(estimate.parameterBytes)} in float32), ` +
        `more than the budget of ${count(maxParameters)} (budget.maxParameters; raise it to build this model)`,
    );
  }
  if (estimate.activationBytes !== null && !(estimate.activationBytes <= maxActivationBytes)) {
    throw new ConfigError(
      `${context}: one forward pass needs about ${formatBytes(estimate.activationBytes)} of activations${sampleSize ? ` at ${sizeKey} ${sampleSize}` : ''}, ` +
        `more than the budget of ${formatBytes(maxActivationBytes)} (budget.maxActivationBytes; raise it to build this model)`,
      sizeKey,
    );
  }
}
