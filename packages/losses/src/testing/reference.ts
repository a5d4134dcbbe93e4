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

/** improved-diffusion's cosine betas (float64). */
export function cosineBetas(count: number): Float64Array {
  const alphaBar = (time: number) => Math.cos(((time + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  return Float64Array.from({ length: count }, (_, i) => Math.min(1 - alphaBar((i + 1) / count) / alphaBar(i / count), 0.999));
}

/** The constants a reference bound term needs, per timestep (float64). */
export interface ReferenceConstants {
  betas: Float64Array;
  alphasCumprod: Float64Array;
  posteriorVariance: Float64Array;
}

/** float64 constants from betas, improved-diffusion's formulas. */
export function referenceConstants(betas: Float64Array): ReferenceConstants {
  const alphasCumprod = new Float64Array(betas.length);
  let product = 1;
  betas.forEach((beta, t) => (alphasCumprod[t] = product *= 1 - beta));
  const posteriorVariance = betas.map((beta, t) => (beta * (1 - (t ? alphasCumprod[t - 1] : 1))) / (1 - alphasCumprod[t]));
  return { betas, alphasCumprod, posteriorVariance };
}

/**
 * One `_vb_terms_bpd` value (bits) for a single item with C = 1, evaluated in float64 with the
 * gathered coefficients rounded to float32 (as improved-diffusion's `_extract_into_tensor`).
 * `output` holds the prediction per element, followed (learned_range) by the variance values.
 */
export function referenceVbTerm(
  k: ReferenceConstants,
  x0: ArrayLike<number>,
  xt: ArrayLike<number>,
  output: ArrayLike<number>,
  t: number,
  varianceType: 'fixed_small' | 'fixed_large' | 'learned_range',
  predictionType: 'epsilon' | 'sample' | 'v_prediction',
  clip: boolean,
): number {
  const f = Math.fround;
  const ab = k.alphasCumprod[t];
  const abPrev = t ? k.alphasCumprod[t - 1] : 1;
  const logClipped = Math.log(t ? k.posteriorVariance[t] : k.posteriorVariance[1]);
  const coef1 = f((k.betas[t] * Math.sqrt(abPrev)) / (1 - ab));
  const coef2 = f(((1 - abPrev) * Math.sqrt(1 - k.betas[t])) / (1 - ab));
  let klSum = 0;
  let nllSum = 0;
  const count = x0.length;
  for (let i = 0; i < count; i += 1) {
    const learned = varianceType === 'learned_range';
    const prediction = learned ? output[2 * i] : output[i];
    let logVariance: number;
    if (varianceType === 'fixed_small') logVariance = f(logClipped);
    else if (varianceType === 'fixed_large') logVariance = f(Math.log(t ? k.betas[t] : k.posteriorVariance[1]));
    else {
      const fraction = (output[2 * i + 1] + 1) / 2;
      logVariance = fraction * f(Math.log(k.betas[t])) + (1 - fraction) * f(logClipped);
    }
    let x0Hat: number;
    if (predictionType === 'epsilon') x0Hat = f(Math.sqrt(1 / ab)) * xt[i] - f(Math.sqrt(1 / ab - 1)) * prediction;
    else if (predictionType === 'sample') x0Hat = prediction;
    else x0Hat = f(Math.sqrt(ab)) * xt[i] - f(Math.sqrt(1 - ab)) * prediction;
    if (clip) x0Hat = Math.min(Math.max(x0Hat, -1), 1);
    const mean = coef1 * x0Hat + coef2 * xt[i];
    const trueMean = coef1 * x0[i] + coef2 * xt[i];
    const trueLog = f(logClipped);
    klSum += 0.5 * (-1 + logVariance - trueLog + Math.exp(trueLog - logVariance) + (trueMean - mean) ** 2 * Math.exp(-logVariance));
    nllSum -= referenceLogLikelihood(x0[i], mean, 0.5 * logVariance);
  }
  return (t === 0 ? nllSum : klSum) / count / Math.LN2;
}
