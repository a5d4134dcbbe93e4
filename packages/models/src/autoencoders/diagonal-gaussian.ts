import * as tf from '@tensorflow/tfjs-core';
import { randn, type Generator } from '@diffusion-ts/core';

/** The log-variance bounds Diffusers clamps to. */
const LOGVAR_MIN = -30;
const LOGVAR_MAX = 20;

/**
 * The VAE's posterior q(z | x): a Gaussian with diagonal covariance (Diffusers'
 * `DiagonalGaussianDistribution`), built from the encoder's moments [B, h, w, 2C] (NHWC): the
 * first C channels are the mean, the last C the log-variance, clamped to [-30, 20].
 *
 * It owns `mean`, `logvar`, `std` and `var`; call `dispose()` when done. Methods return new
 * tensors that the caller owns.
 */
export class DiagonalGaussianDistribution {
  /** The mean [B, h, w, C]; also the mode. */
  readonly mean: tf.Tensor4D;
  /** The log-variance, clamped to [-30, 20]. */
  readonly logvar: tf.Tensor4D;
  /** `exp(logvar / 2)`. */
  readonly std: tf.Tensor4D;
  /** `exp(logvar)`. */
  readonly var: tf.Tensor4D;

  /** Splits `moments` [B, h, w, 2C] (NHWC) into mean and log-variance; `moments` stays the caller's. */
  constructor(moments: tf.Tensor4D) {
    if (moments.rank !== 4 || moments.shape[3] % 2 !== 0) {
      throw new RangeError(`DiagonalGaussianDistribution: moments must be [B, h, w, 2C] (NHWC), got [${moments.shape.join(', ')}]`);
    }
    const parts = tf.tidy(() => {
      const [mean, raw] = tf.split(moments, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
      const logvar = tf.clipByValue(raw, LOGVAR_MIN, LOGVAR_MAX) as tf.Tensor4D;
      return { mean, logvar, std: tf.exp(tf.mul(logvar, 0.5)) as tf.Tensor4D, variance: tf.exp(logvar) as tf.Tensor4D };
    });
    this.mean = parts.mean;
    this.logvar = parts.logvar;
    this.std = parts.std;
    this.var = parts.variance;
  }

  /**
   * A sample `mean + std * noise`, the noise drawn by core's `randn` from `generator` in NHWC
   * row-major order (identical on every backend; a randomly seeded generator when omitted).
   */
  sample(generator?: Generator): tf.Tensor4D {
    return tf.tidy(() => tf.add(this.mean, tf.mul(this.std, randn([...this.mean.shape], generator))) as tf.Tensor4D);
  }

  /** The mode (a copy of the mean), what Diffusers decodes unless asked to sample. */
  mode(): tf.Tensor4D {
    return tf.clone(this.mean);
  }

  /**
   * The KL divergence per batch item [B], summed over h, w and C: from N(0, I) when `other` is
   * omitted (`0.5 * sum(mean² + var - 1 - logvar)`), else from `other`.
   */
  kl(other?: DiagonalGaussianDistribution): tf.Tensor1D {
    return tf.tidy(() => {
      // Diffusers' order of operations, for the same float32 rounding.
      const terms = other
        ? tf.add(
            tf.sub(
              tf.sub(tf.add(tf.div(tf.square(tf.sub(this.mean, other.mean)), other.var), tf.div(this.var, other.var)), 1),
              this.logvar,
            ),
            other.logvar,
          )
        : tf.sub(tf.sub(tf.add(tf.square(this.mean), this.var), 1), this.logvar);
      return tf.mul(tf.sum(terms, [1, 2, 3]), 0.5) as tf.Tensor1D;
    });
  }

  /** The negative log-likelihood of `sample` [B, h, w, C] per batch item [B], summed over h, w and C. */
  nll(sample: tf.Tensor4D): tf.Tensor1D {
    return tf.tidy(() => {
      const terms = tf.add(tf.add(this.logvar, Math.log(2 * Math.PI)), tf.div(tf.square(tf.sub(sample, this.mean)), this.var));
      return tf.mul(tf.sum(terms, [1, 2, 3]), 0.5) as tf.Tensor1D;
    });
  }

  /** Frees `mean`, `logvar`, `std` and `var`. */
  dispose(): void {
    tf.dispose([this.mean, this.logvar, this.std, this.var]);
  }
}
