// Elementwise kernels (binary arithmetic with periodic broadcasting, unary functions, sums over
// leading or trailing axes, AddN) and the fused AdamW update, split over the thread pool.
#pragma once

namespace dts {

/** SiluGrad: a = x, b = dy (same sizes): dy s (1 + x (1 - s)) with s = sigmoid(x). */
enum class BinaryOp { Add = 0, Sub = 1, Mul = 2, Div = 3, SiluGrad = 4 };
/** Silu: x sigmoid(x). */
enum class UnaryOp { Square = 0, Sqrt = 1, Rsqrt = 2, Neg = 3, Sigmoid = 4, Silu = 5 };

/**
 * out[i] = a[i % na] op b[i % nb] for i < n, where na and nb each divide n (n itself: no
 * broadcast; a smaller one repeats, as tfjs broadcasts a trailing shape or a scalar).
 */
void binary(BinaryOp op, const float* a, long na, const float* b, long nb, float* out, long n);

/** out[i] = op(x[i]). */
void unary(UnaryOp op, const float* x, float* out, long n);

/**
 * Sums of a row-major [outer, inner] matrix, accumulated in double: over its rows (out has inner
 * values: a sum over leading axes) when `overRows`, else along each row (out has outer values).
 */
void reduce_sum(const float* x, float* out, long outer, long inner, bool overRows);

/** out = inputs[0] + ... + inputs[count - 1], elementwise over n. */
void add_n(const float* const* inputs, int count, float* out, long n);

/**
 * GroupNorm of `batch` images of [pixels, channels] (NHWC flattened), `groups` groups of
 * consecutive channels: centered = x - group mean, inverseStd[b, c] = 1 / sqrt(group variance +
 * epsilon) (biased, two-pass, accumulated in double), out = centered * inverseStd * gamma + beta.
 */
void group_norm(const float* x, const float* gamma, const float* beta, float* out, float* centered, float* inverseStd,
                long batch, long pixels, long channels, long groups, double epsilon);

/** Hyper-parameters of one AdamW update (float64, rounded to float32 like tfjs' scalars). */
struct AdamHyper {
  double learningRate, beta1, beta2, epsilon, weightDecay, correction1, correction2;
};

/**
 * PyTorch's AdamW for n elements: m' = b1 m + (1 - b1) g, v' = b2 v + (1 - b2) g^2,
 * w' = w (1 - lr wd) - (lr / c1) m' / (sqrt(v') / sqrt(c2) + eps).
 */
void adam_update(const float* w, const float* g, const float* m, const float* v, float* outW, float* outM, float* outV,
                 long n, const AdamHyper& hyper);

}  // namespace dts
