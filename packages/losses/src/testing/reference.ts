/**
 * Test helper: improved-diffusion's decoder formula in float64 on plain numbers, used to measure
 * how much of a difference from the fixture comes from rounding its float64 inputs to float32.
 */

const cdf = (x: number): number => 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** log p(x) of the discretized Gaussian decoder, float64, clamped at 1e-12 like improved-diffusion. */
export function referenceLogLikelihood(x: number, mean: number, logScale: number): number {
  const centered = x - mean;
  const inverse = Math.exp(-logScale);
  const upper = cdf(inverse * (centered + 1 / 255));
  const lower = cdf(inverse * (centered - 1 / 255));
  if (x < -0.999) return Math.log(Math.max(upper, 1e-12));
  if (x > 0.999) return Math.log(Math.max(1 - lower, 1e-12));
  return Math.log(Math.max(upper - lower, 1e-12));
}
