#include "layout.h"

#include <algorithm>
#include <cstring>

#include "workspace.h"

namespace dts {

namespace {

/** Rows handed to one task: enough bytes that the pool's overhead is negligible. */
long rows_per_task(long rows, long rowFloats) {
  const long target = 1L << 16;  // floats per task
  return std::max(1L, std::min(rows, target / std::max(1L, rowFloats)));
}

/** Calls copy(row) for every row in [0, rows), split over the threads by bytes moved. */
template <typename Copy>
void for_rows(long rows, long rowFloats, Copy copy) {
  const long perTask = rows_per_task(rows, rowFloats);
  const long tasks = (rows + perTask - 1) / perTask;
  parallel_for(static_cast<int>(tasks), static_cast<double>(rows) * rowFloats, [&](int task, int) {
    const long first = task * perTask, last = std::min(rows, first + perTask);
    for (long row = first; row < last; ++row) copy(row);
  });
}

}  // namespace

void concat_rows(float* out, long outer, int count, const float* const* inputs, const long* inner) {
  long width = 0;
  for (int i = 0; i < count; ++i) width += inner[i];
  for_rows(outer, width, [&](long row) {
    float* dst = out + row * width;
    for (int i = 0; i < count; ++i) {
      std::memcpy(dst, inputs[i] + row * inner[i], sizeof(float) * inner[i]);
      dst += inner[i];
    }
  });
}

void copy_slice(const float* in, float* out, int rank, const long* shape, const long* begin, const long* size) {
  // The copied run: the innermost dimensions taken whole, plus the first one that is not.
  long run = 1;
  int d = rank - 1;
  while (d >= 0 && begin[d] == 0 && size[d] == shape[d]) run *= shape[d--];
  if (d >= 0) run *= size[d];
  const int outerRank = d;  // dimensions [0, outerRank) are iterated
  long strides[kMaxRank];
  long stride = 1;
  for (int k = rank - 1; k >= 0; --k) {
    strides[k] = stride;
    stride *= shape[k];
  }
  long rows = 1;
  for (int k = 0; k < outerRank; ++k) rows *= size[k];
  const long start = d >= 0 ? begin[d] * strides[d] : 0;
  for_rows(rows, run, [&](long row) {
    long offset = start, rest = row;
    for (int k = outerRank - 1; k >= 0; --k) {
      offset += (begin[k] + rest % size[k]) * strides[k];
      rest /= size[k];
    }
    std::memcpy(out + row * run, in + offset, sizeof(float) * run);
  });
}

void tile(const float* in, float* out, int rank, const long* shape, const long* reps) {
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  const long last = shape[rank - 1];
  const long lastReps = reps[rank - 1];
  long outShape[kMaxRank];
  long inStrides[kMaxRank];
  long stride = 1;
  for (int k = rank - 1; k >= 0; --k) {
    outShape[k] = shape[k] * reps[k];
    inStrides[k] = stride;
    stride *= shape[k];
  }
  long rows = 1;
  for (int k = 0; k < rank - 1; ++k) rows *= outShape[k];
  const long rowFloats = last * lastReps;
  for_rows(rows, rowFloats, [&](long row) {
    long offset = 0, rest = row;
    for (int k = rank - 2; k >= 0; --k) {
      offset += (rest % outShape[k] % shape[k]) * inStrides[k];
      rest /= outShape[k];
    }
    float* dst = out + row * rowFloats;
    for (long r = 0; r < lastReps; ++r) std::memcpy(dst + r * last, in + offset, sizeof(float) * last);
  });
}

}  // namespace dts
