/**
 * The x0 / ε view of a model output at ᾱ_t, whatever the model predicts (DDIM eq. 12):
 * epsilon: x̂0 = (x_t - sqrt(1-ᾱ) ε) / sqrt(ᾱ); sample: ε̂ = (x_t - sqrt(ᾱ) x̂0) / sqrt(1-ᾱ);
 * v: x̂0 = sqrt(ᾱ) x_t - sqrt(1-ᾱ) v, ε̂ = sqrt(ᾱ) v + sqrt(1-ᾱ) x_t.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PredictionType } from './scheduler.js';

/** x0 and ε recovered from a model output; call inside `tf.tidy`. */
export interface Denoised {
  predOriginalSample: tf.Tensor;
  predEpsilon: tf.Tensor;
}

/** Converts the model output to (x̂0, ε̂) at ᾱ_t; call inside `tf.tidy`. */
export function denoise(predictionType: PredictionType, modelOutput: tf.Tensor, sample: tf.Tensor, alphaBar: number): Denoised {
  const signal = Math.sqrt(alphaBar);
  const noise = Math.sqrt(1 - alphaBar);
  switch (predictionType) {
    case 'epsilon':
      return {
        predOriginalSample: tf.div(tf.sub(sample, tf.mul(modelOutput, noise)), signal),
        predEpsilon: modelOutput,
      };
    case 'sample':
      return {
        predOriginalSample: modelOutput,
        predEpsilon: epsilonFromOriginal(modelOutput, sample, alphaBar),
      };
    case 'v_prediction':
      return {
        predOriginalSample: tf.sub(tf.mul(sample, signal), tf.mul(modelOutput, noise)),
        predEpsilon: tf.add(tf.mul(modelOutput, signal), tf.mul(sample, noise)),
      };
    default:
      throw new RangeError(`unknown predictionType '${String(predictionType)}' (expected epsilon, sample or v_prediction)`);
  }
}

/** ε̂ = (x_t - sqrt(ᾱ) x̂0) / sqrt(1 - ᾱ). */
export function epsilonFromOriginal(predOriginalSample: tf.Tensor, sample: tf.Tensor, alphaBar: number): tf.Tensor {
  return tf.div(tf.sub(sample, tf.mul(predOriginalSample, Math.sqrt(alphaBar))), Math.sqrt(1 - alphaBar));
}
