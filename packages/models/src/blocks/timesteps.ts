import * as tf from '@tensorflow/tfjs-core';

/** Options of the sinusoidal timestep projection (Diffusers' `Timesteps`). */
export interface TimestepsOptions {
  /** Output width (`embedding_dim`). */
  numChannels: number;
  /** Put the cosines first (Diffusers' `flip_sin_to_cos`). */
  flipSinToCos: boolean;
  /** Frequencies are `exp(-ln(maxPeriod) i / (half - downscaleFreqShift))` (Diffusers' `freq_shift`). */
  downscaleFreqShift: number;
  /** Multiplier on the arguments (default 1). */
  scale?: number;
  /** The longest period (default 10000). */
  maxPeriod?: number;
}

/**
 * The frequencies of the sinusoidal embedding, rounded to float32 the way torch computes them
 * (`exp(float32(float32(-ln(maxPeriod) * i) / (half - shift)))`).
 */
export function timestepFrequencies(options: TimestepsOptions): Float32Array {
  const half = Math.floor(options.numChannels / 2);
  const logPeriod = Math.fround(-Math.log(options.maxPeriod ?? 10000));
  const frequencies = new Float32Array(half);
  for (let i = 0; i < half; i += 1) {
    const exponent = Math.fround(Math.fround(logPeriod * i) / (half - options.downscaleFreqShift));
    frequencies[i] = Math.exp(exponent);
  }
  return frequencies;
}

/**
 * Sinusoidal timestep embedding, as Diffusers' `get_timestep_embedding`: for timesteps `t` [B]
 * returns `[sin(t f), cos(t f)]` [B, numChannels] (cosines first with `flipSinToCos`; an odd
 * width gets a zero column at the end).
 */
export class Timesteps {
  private readonly frequencies: Float32Array;

  constructor(readonly options: TimestepsOptions) {
    this.frequencies = timestepFrequencies(options);
  }

  /** Embeds `timesteps` [B] (any numeric dtype) into [B, numChannels]. */
  apply(timesteps: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => {
      const half = this.frequencies.length;
      const t = tf.reshape(tf.cast(timesteps, 'float32'), [-1, 1]);
      let arguments_ = tf.mul(t, tf.tensor2d(this.frequencies, [1, half]));
      if ((this.options.scale ?? 1) !== 1) arguments_ = tf.mul(arguments_, this.options.scale ?? 1);
      const sin = tf.sin(arguments_);
      const cos = tf.cos(arguments_);
      let embedding = this.options.flipSinToCos ? tf.concat([cos, sin], 1) : tf.concat([sin, cos], 1);
      if (this.options.numChannels % 2 === 1)
        embedding = tf.pad(embedding, [
          [0, 0],
          [0, 1],
        ]);
      return embedding as tf.Tensor2D;
    });
  }
}
