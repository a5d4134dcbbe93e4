/**
 * log1p and log(1 - e^-g) written with basic ops, accurate to float32 precision on every backend
 * (the wasm backend's Log1p is log(1 + x) in float32, which loses tiny arguments), with finite
 * gradients everywhere.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Below this magnitude the series are used. */
const SERIES_LIMIT = 0.1;

/** log(1 + v) for v > -1: Taylor series (8 terms, error < 2e-9 relative) for |v| < 0.1, else log(1 + v). */
export function log1p(v: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    // Conditions use greaterEqual, the one comparison tfjs can backpropagate through.
    const large = tf.greaterEqual(tf.abs(v), SERIES_LIMIT);
    const s = tf.clipByValue(v, -SERIES_LIMIT, SERIES_LIMIT);
    // v - v²/2 + v³/3 - … - v⁸/8, in Horner form.
    let series: tf.Tensor = tf.scalar(-1 / 8);
    for (let n = 7; n >= 1; n -= 1) series = tf.add(tf.mul(series, s), (n % 2 === 1 ? 1 : -1) / n);
    series = tf.mul(series, s);
    const direct = tf.log(tf.add(tf.where(large, v, tf.zerosLike(v)), 1));
    return tf.where(large, direct, series);
  });
}

/**
 * log(1 - e^-g) for g > 0: log(g) + log((1 - e^-g) / g) by series for g < 0.1,
 * log(1 - e^-g) up to ln 2, and log1p(-e^-g) above. `g` is floored at 1e-30.
 */
export function logOneMinusExp(g: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const gap = tf.maximum(g, 1e-30);
    const small = tf.clipByValue(gap, 1e-30, SERIES_LIMIT);
    // (1 - e^-g) / g = 1 - g/2 + g²/6 - g³/24 + g⁴/120 - g⁵/720.
    let ratio: tf.Tensor = tf.scalar(-1 / 720);
    for (const coefficient of [1 / 120, -1 / 24, 1 / 6, -1 / 2, 1]) ratio = tf.add(tf.mul(ratio, small), coefficient);
    const series = tf.add(tf.log(small), tf.log(ratio));
    const middle = tf.log(tf.sub(1, tf.exp(tf.neg(tf.clipByValue(gap, SERIES_LIMIT, Math.LN2)))));
    const large = log1p(tf.neg(tf.exp(tf.neg(tf.maximum(gap, Math.LN2)))));
    return tf.where(tf.greaterEqual(gap, SERIES_LIMIT), tf.where(tf.greaterEqual(gap, Math.LN2), large, middle), series);
  });
}

/**
 * e^u - 1 - u: Taylor series (through u^10 / 10!, error < 1e-10 relative) for |u| < 0.5, else
 * computed directly. It is the variance part of a Gaussian KL, which cancels badly in float32
 * when the two variances are close.
 */
export function expm1MinusX(u: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const limit = 0.5;
    const s = tf.clipByValue(u, -limit, limit);
    // u²/2! + u³/3! + … + u¹⁰/10!, in Horner form: u² (1/2! + u (1/3! + … + u/10!)).
    let factorial = 1;
    const coefficients: number[] = [];
    for (let n = 2; n <= 10; n += 1) coefficients.push(1 / (factorial *= n));
    let series: tf.Tensor = tf.scalar(coefficients[coefficients.length - 1]);
    for (let i = coefficients.length - 2; i >= 0; i -= 1) series = tf.add(tf.mul(series, s), coefficients[i]);
    series = tf.mul(series, tf.square(s));
    const direct = tf.sub(tf.sub(tf.exp(u), 1), u);
    return tf.where(tf.greaterEqual(tf.abs(u), limit), direct, series);
  });
}
