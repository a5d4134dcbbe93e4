// Kernels that only move data (concat, slice, tile) for 4-byte elements, multi-threaded memcpy.
#pragma once

namespace dts {

/** The most dimensions `copy_slice` and `tile` take. */
constexpr int kMaxRank = 8;

/**
 * out[o] = inputs[0][o] ++ inputs[1][o] ++ ... for each of `outer` rows, where input i's rows are
 * inner[i] floats long (a concatenation along one axis, flattened around it).
 */
void concat_rows(float* out, long outer, int count, const float* const* inputs, const long* inner);

/** Copies the box [begin, begin + size) of the row-major `in` of `shape` into `out`. */
void copy_slice(const float* in, float* out, int rank, const long* shape, const long* begin, const long* size);

/** out = `in` (of `shape`) repeated reps[d] times along each dimension d. */
void tile(const float* in, float* out, int rank, const long* shape, const long* reps);

}  // namespace dts
