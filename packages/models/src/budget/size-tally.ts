/**
 * Parameter and activation counts from a walk over a model's layers (see `LayerVisitor`), before
 * anything is allocated. Written for any model built from convolutions, linear layers, norms,
 * tables and attention: the UNets now, the VAE and text encoder by the same calls.
 */
import type { LayerVisitor } from './layer-walk.js';
import { BYTES_PER_ELEMENT, type ModelSizeEstimate } from './model-budget.js';

/** Tensors a layer holds of its output's size (a norm and the activation after it; the scores and their softmax). */
const NORM_INTERMEDIATES = 2;
const SCORE_INTERMEDIATES = 2;

/** Counts parameters, and the activation elements one sample keeps and needs at its peak. */
export class SizeTally implements LayerVisitor {
  /** Scalar parameters. */
  parameters = 0;
  /** Elements per sample kept until the forward pass ends (block outputs, skips). */
  keptElements = 0;
  /** The most elements per sample any one unit holds at once besides what is kept. */
  peakUnitElements = 0;
  /** Elements per sample of the largest single tensor (an attention score matrix, usually). */
  largestTensorElements = 0;
  private unitElements = 0;
  private depth = 0;

  /** Elements per sample alive at the forward pass's peak (an estimate from above). */
  get peakElements(): number {
    return this.keptElements + this.peakUnitElements;
  }

  /** Records `count` tensors of `elements` each. */
  private produce(elements: number, count = 1): void {
    this.largestTensorElements = Math.max(this.largestTensorElements, elements);
    if (this.depth > 0) this.unitElements += count * elements;
    else this.keptElements += count * elements;
  }

  conv(rows: number, inChannels: number, outChannels: number, kernel: number): void {
    this.parameters += kernel * kernel * inChannels * outChannels + outChannels;
    this.produce(rows * outChannels);
  }

  linear(rows: number, inFeatures: number, outFeatures: number, bias: boolean): void {
    this.parameters += inFeatures * outFeatures + (bias ? outFeatures : 0);
    this.produce(rows * outFeatures);
  }

  norm(rows: number, channels: number): void {
    this.parameters += 2 * channels;
    this.produce(rows * channels, NORM_INTERMEDIATES);
  }

  embedding(count: number, features: number): void {
    this.parameters += count * features;
  }

  attention(queries: number, keys: number, inner: number, heads: number): void {
    this.produce(heads * queries * keys, SCORE_INTERMEDIATES);
    this.produce(queries * inner);
  }

  unit(rows: number, channels: number, body: () => void): void {
    const outer = this.unitElements;
    this.unitElements = 0;
    this.depth += 1;
    try {
      body();
    } finally {
      this.depth -= 1;
    }
    this.peakUnitElements = Math.max(this.peakUnitElements, this.unitElements);
    this.unitElements = outer;
    this.produce(rows * channels);
  }
}

/** The estimate of a walked model at `batch` samples; without `activations` (no size was known) only the parameters. */
export function tallyEstimate(tally: SizeTally, batch: number, activations: boolean): ModelSizeEstimate {
  return {
    parameters: tally.parameters,
    parameterBytes: tally.parameters * BYTES_PER_ELEMENT,
    activationBytes: activations ? tally.peakElements * batch * BYTES_PER_ELEMENT : null,
    largestTensorBytes: activations ? tally.largestTensorElements * batch * BYTES_PER_ELEMENT : null,
  };
}
