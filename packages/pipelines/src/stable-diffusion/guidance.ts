/** Classifier-free guidance on a doubled batch `[unconditional; conditional]`, with Diffusers' guidance rescale. */
import * as tf from '@tensorflow/tfjs-core';

/**
 * `u + scale (c - u)` from the model output on `[latents; latents]` with `[negative; positive]`
 * states. With `rescale` r > 0 (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps
 * are Flawed", §3.4) the result is pulled toward the conditional prediction's spread:
 * `r * g * std(c) / std(g) + (1 - r) * g`, each std over all but the batch axis, unbiased (as
 * `torch.std`). Call inside `tf.tidy`.
 */
export function classifierFreeGuidance(output: tf.Tensor4D, scale: number, rescale = 0): tf.Tensor4D {
  const [unconditional, conditional] = tf.split(output, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
  const guided = tf.add(unconditional, tf.mul(scale, tf.sub(conditional, unconditional))) as tf.Tensor4D;
  if (rescale <= 0) return guided;
  const rescaled = tf.mul(guided, tf.div(unbiasedStd(conditional), unbiasedStd(guided)));
  return tf.add(tf.mul(rescale, rescaled), tf.mul(1 - rescale, guided)) as tf.Tensor4D;
}

/** The unbiased standard deviation of each batch item [B, 1, 1, 1]. */
function unbiasedStd(x: tf.Tensor4D): tf.Tensor4D {
  const count = x.size / x.shape[0];
  const mean = tf.mean(x, [1, 2, 3], true);
  return tf.sqrt(tf.div(tf.sum(tf.square(tf.sub(x, mean)), [1, 2, 3], true), count - 1)) as tf.Tensor4D;
}
