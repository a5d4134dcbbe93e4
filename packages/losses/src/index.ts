/**
 * @diffusion-ts/losses: the training objectives and the variational bound of diffusion models,
 * numerically matching improved-diffusion (bound, decoder, bits/dim) and Diffusers (L_simple).
 */
export { coefficientsOf, deriveCoefficients, type DiffusionCoefficients, type DiffusionSchedule } from './coefficients.js';
export { approxStandardNormalCdf, discretizedGaussianLogLikelihood, normalKl, type DecoderParameters } from './gaussian.js';
export { qMeanVariance, qPosteriorMeanVariance, qSample, type GaussianMoments } from './posterior.js';
export { pMeanVariance, type PMeanVarianceOptions, type PMeanVarianceResult } from './p-mean-variance.js';
export { vlbTerms, type VlbOptions, type VlbResult } from './vlb.js';
export {
  bitsPerDim,
  priorBpd,
  type BitsPerDimOptions,
  type BitsPerDimResult,
  type DenoisingModel,
  type NoiseSource,
} from './bits-per-dim.js';
export { lSimple, minSnrWeights, type LossType, type ReducedLoss, type SimpleLossOptions } from './simple.js';
export { lHybrid, type HybridLossOptions } from './hybrid.js';
export { stopGradient } from './stop-gradient.js';
