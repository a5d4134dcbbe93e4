// The operations the addon exports: batched matrix multiply and NHWC convolution with both of its
// gradients, all built on gemm_rows; each runs in a Session of the thread pool (workspace.h).
#pragma once

namespace dts {

/** Geometry of one NHWC convolution with an HWIO filter. */
struct ConvShape {
  int batch, inHeight, inWidth, inChannels;
  int filterHeight, filterWidth, outChannels;
  int strideHeight, strideWidth, dilationHeight, dilationWidth;
  int padTop, padLeft;
  int outHeight, outWidth;
};

/**
 * For b < batch: C_b = op(A_b) op(B_b) (+ bias over rows). A_b is M x K row-major (K x M when
 * transA); B_b is K x N (N x K when transB); C_b is M x N; bias may be null.
 */
void batched_matmul(int batch, int M, int N, int K, bool transA, bool transB, const float* A, const float* B,
                    float* C, long strideA, long strideB, long strideC, const float* bias);

/** y = conv(x, w) (+ bias). */
void conv2d(const ConvShape& s, const float* x, const float* w, const float* bias, float* y);

/** dx, the gradient of conv2d with respect to its input. */
void conv2d_backprop_input(const ConvShape& s, const float* dy, const float* w, float* dx);

/** dw, the gradient of conv2d with respect to its filter. */
void conv2d_backprop_filter(const ConvShape& s, const float* x, const float* dy, float* dw);

}  // namespace dts
