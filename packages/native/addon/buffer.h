// A 64-byte aligned float buffer that only grows: the scratch memory kernels keep between calls.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace dts {

class Buffer {
 public:
  Buffer() = default;
  ~Buffer() { std::free(data_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  /** At least `floats` floats (contents unspecified after a growth); throws std::bad_alloc. */
  float* ensure(std::size_t floats) {
    if (floats <= size_) return data_;
    std::free(data_);
    data_ = nullptr;
    size_ = 0;
    // Round up so that aligned_alloc's size is a multiple of the alignment.
    const std::size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (data_ == nullptr) throw std::bad_alloc();
    size_ = floats;
    return data_;
  }

 private:
  float* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace dts
