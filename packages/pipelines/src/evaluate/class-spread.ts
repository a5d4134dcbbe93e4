/** How generated samples spread over the classifier's classes. */
export interface ClassSpread {
  /** Samples per predicted class. */
  counts: number[];
  /** Entropy of the predicted-class histogram in bits (log2(10) = 3.32 for a uniform spread). */
  entropyBits: number;
  /** Smallest class share divided by the largest (1 = perfectly even). */
  minOverMax: number;
  /** The rarest class's share of the samples (0.1 each for an even spread over 10 classes). */
  minShare: number;
  /** The commonest class's share of the samples. */
  maxShare: number;
}

/** Summarises predicted classes (`0 … numClasses-1`) as counts, entropy and evenness. */
export function classSpread(predicted: ArrayLike<number>, numClasses = 10): ClassSpread {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < predicted.length; i++) {
    const label = predicted[i];
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new Error(`classSpread: class ${label} at index ${i} is outside 0..${numClasses - 1}`);
    }
    counts[label] += 1;
  }
  const total = predicted.length;
  let entropyBits = 0;
  for (const count of counts) if (count > 0) entropyBits -= (count / total) * Math.log2(count / total);
  const [min, max] = [Math.min(...counts), Math.max(...counts)];
  return {
    counts,
    entropyBits,
    minOverMax: max === 0 ? 0 : min / max,
    minShare: total === 0 ? 0 : min / total,
    maxShare: total === 0 ? 0 : max / total,
  };
}

/** The rarest and the commonest class's shares in percent, e.g. `8.6% / 12.3%` (or `8.6-12.3%` with `separator` '-'). */
export function formatClassShares(spread: Pick<ClassSpread, 'minShare' | 'maxShare'>, separator = '% / '): string {
  return `${(100 * spread.minShare).toFixed(1)}${separator}${(100 * spread.maxShare).toFixed(1)}%`;
}
