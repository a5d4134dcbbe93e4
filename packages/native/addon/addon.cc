// Node-API bindings. Every function takes a Float32Array (in practice the wasm backend's heap) and
// element offsets into it; all sizes are checked against the array before any memory is touched.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "gemm.h"
#include "layout.h"
#include "ops.h"
#include "peak.h"
#include "pointwise.h"
#include "workspace.h"

namespace {

struct ArgError {
  std::string message;
};

class Args {
 public:
  Args(napi_env env, napi_callback_info info, const char* name, std::size_t expected) : env_(env), name_(name) {
    argc_ = kMax;
    napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr);
    if (argc_ != expected) {
      fail("expected " + std::to_string(expected) + " arguments, got " + std::to_string(argc_));
    }
  }

  /** The Float32Array at argument 0. */
  float* heap(std::size_t* length) {
    bool isTyped = false;
    napi_is_typedarray(env_, argv_[0], &isTyped);
    if (!isTyped) fail("argument 0 must be a Float32Array");
    napi_typedarray_type type;
    void* data = nullptr;
    napi_get_typedarray_info(env_, argv_[0], &type, length, &data, nullptr, nullptr);
    if (type != napi_float32_array) fail("argument 0 must be a Float32Array");
    return static_cast<float*>(data);
  }

  int64_t integer(std::size_t index, const char* what, int64_t min) {
    double value = 0;
    if (napi_get_value_double(env_, argv_[index], &value) != napi_ok) fail(std::string(what) + " must be a number");
    if (!(value >= static_cast<double>(min) && value <= 9007199254740991.0) || value != static_cast<int64_t>(value)) {
      fail(std::string(what) + " must be an integer >= " + std::to_string(min) + ", got " + std::to_string(value));
    }
    return static_cast<int64_t>(value);
  }

  int size(std::size_t index, const char* what, int min = 0) {
    const int64_t value = integer(index, what, min);
    if (value > INT32_MAX) fail(std::string(what) + " is too large");
    return static_cast<int>(value);
  }

  double number(std::size_t index, const char* what) {
    double value = 0;
    if (napi_get_value_double(env_, argv_[index], &value) != napi_ok || !std::isfinite(value)) {
      fail(std::string(what) + " must be a finite number");
    }
    return value;
  }

  bool flag(std::size_t index, const char* what) {
    bool value = false;
    if (napi_get_value_bool(env_, argv_[index], &value) != napi_ok) fail(std::string(what) + " must be a boolean");
    return value;
  }

  napi_value value(std::size_t index) const { return argv_[index]; }

  [[noreturn]] void fail(const std::string& message) { throw ArgError{std::string(name_) + ": " + message}; }

 private:
  static constexpr std::size_t kMax = 24;
  napi_env env_;
  const char* name_;
  std::size_t argc_;
  napi_value argv_[kMax];
};

/** Checks that [offset, offset + extent) lies inside the heap and returns the pointer. */
float* region(Args& args, float* heap, std::size_t length, int64_t offset, int64_t extent, const char* what) {
  if (extent < 0 || offset < 0 || static_cast<uint64_t>(offset) + static_cast<uint64_t>(extent) > length) {
    args.fail(std::string(what) + " [" + std::to_string(offset) + ", +" + std::to_string(extent) +
              ") lies outside the array of " + std::to_string(length) + " floats");
  }
  return heap + offset;
}

napi_value undefined(napi_env env) {
  napi_value value;
  napi_get_undefined(env, &value);
  return value;
}

template <typename Body>
napi_value guarded(napi_env env, Body body) {
  try {
    return body();
  } catch (const ArgError& error) {
    napi_throw_range_error(env, nullptr, error.message.c_str());
  } catch (const std::bad_alloc&) {
    napi_throw_error(env, nullptr, "diffusion-ts native: out of memory");
  } catch (const std::exception& error) {
    napi_throw_error(env, nullptr, error.what());
  }
  return nullptr;
}

/**
 * The shape of every heap binding: checks the argument count, takes the Float32Array heap from
 * argument 0, runs `body(args, heap, length)` and turns argument errors into RangeErrors.
 */
template <typename Body>
napi_value with_heap(napi_env env, napi_callback_info info, const char* name, std::size_t argc, Body body) {
  return guarded(env, [&] {
    Args args(env, info, name, argc);
    std::size_t length = 0;
    float* heap = args.heap(&length);
    body(args, heap, length);
    return undefined(env);
  });
}

napi_value Info(napi_env env, napi_callback_info) {
  return guarded(env, [&] {
    napi_value result, isa, threads;
    napi_create_object(env, &result);
    napi_create_string_utf8(env, dts::gemm_isa(), NAPI_AUTO_LENGTH, &isa);
    napi_create_int32(env, dts::thread_count(), &threads);
    napi_set_named_property(env, result, "isa", isa);
    napi_set_named_property(env, result, "threads", threads);
    return result;
  });
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, "setThreads", 1);
    const int threads = args.size(0, "threads", 1);
    if (threads > 64) args.fail("threads must be at most 64");
    dts::set_threads(threads);
    return undefined(env);
  });
}

// measurePeak(threads, seconds): GFLOP/s of back-to-back FMAs in the widest vectors, all threads.
napi_value MeasurePeak(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, "measurePeak", 2);
    const int threads = args.size(0, "threads", 1);
    if (threads > 64) args.fail("threads must be at most 64");
    const int64_t milliseconds = args.integer(1, "milliseconds", 1);
    if (milliseconds > 60000) args.fail("milliseconds must be at most 60000");
    napi_value result;
    napi_create_double(env, dts::measure_peak_gflops(threads, milliseconds / 1000.0), &result);
    return result;
  });
}

// gemm(heap, batch, M, N, K, transA, transB, aOff, bOff, cOff, strideA, strideB, strideC, biasOff)
napi_value Gemm(napi_env env, napi_callback_info info) {
  return with_heap(env, info, "gemm", 14, [&](Args& args, float* heap, std::size_t length) {
    const int batch = args.size(1, "batch"), M = args.size(2, "M"), N = args.size(3, "N"), K = args.size(4, "K");
    const bool transA = args.flag(5, "transA"), transB = args.flag(6, "transB");
    const int64_t aOff = args.integer(7, "aOff", 0), bOff = args.integer(8, "bOff", 0), cOff = args.integer(9, "cOff", 0);
    const int64_t strideA = args.integer(10, "strideA", 0), strideB = args.integer(11, "strideB", 0);
    const int64_t strideC = args.integer(12, "strideC", 0), biasOff = args.integer(13, "biasOff", -1);
    if (batch == 0 || M == 0 || N == 0) return;
    const int64_t last = batch - 1;
    const float* A = region(args, heap, length, aOff, last * strideA + static_cast<int64_t>(M) * K, "A");
    const float* B = region(args, heap, length, bOff, last * strideB + static_cast<int64_t>(K) * N, "B");
    float* C = region(args, heap, length, cOff, last * strideC + static_cast<int64_t>(M) * N, "C");
    if (strideC < static_cast<int64_t>(M) * N && batch > 1) args.fail("strideC must be at least M * N");
    const float* bias = biasOff < 0 ? nullptr : region(args, heap, length, biasOff, N, "bias");
    dts::batched_matmul(batch, M, N, K, transA, transB, A, B, C, strideA, strideB, strideC, bias);
  });
}

/** Reads the 15 geometry arguments that follow the tensors, starting at `first`. */
dts::ConvShape conv_shape(Args& args, std::size_t first) {
  dts::ConvShape s{};
  s.batch = args.size(first, "N");
  s.inHeight = args.size(first + 1, "H");
  s.inWidth = args.size(first + 2, "W");
  s.inChannels = args.size(first + 3, "Cin");
  s.filterHeight = args.size(first + 4, "KH", 1);
  s.filterWidth = args.size(first + 5, "KW", 1);
  s.outChannels = args.size(first + 6, "Cout");
  s.strideHeight = args.size(first + 7, "strideH", 1);
  s.strideWidth = args.size(first + 8, "strideW", 1);
  s.dilationHeight = args.size(first + 9, "dilationH", 1);
  s.dilationWidth = args.size(first + 10, "dilationW", 1);
  s.padTop = args.size(first + 11, "padTop");
  s.padLeft = args.size(first + 12, "padLeft");
  s.outHeight = args.size(first + 13, "outH");
  s.outWidth = args.size(first + 14, "outW");
  // Every window the output asks for must start and end at a pixel index that fits an int.
  const int64_t lastRow = static_cast<int64_t>(s.outHeight) * s.strideHeight + static_cast<int64_t>(s.filterHeight) * s.dilationHeight;
  const int64_t lastCol = static_cast<int64_t>(s.outWidth) * s.strideWidth + static_cast<int64_t>(s.filterWidth) * s.dilationWidth;
  if (lastRow > INT32_MAX / 2 || lastCol > INT32_MAX / 2) args.fail("the convolution's extent is too large");
  return s;
}

int64_t input_size(const dts::ConvShape& s) {
  return static_cast<int64_t>(s.batch) * s.inHeight * s.inWidth * s.inChannels;
}
int64_t output_size(const dts::ConvShape& s) {
  return static_cast<int64_t>(s.batch) * s.outHeight * s.outWidth * s.outChannels;
}
int64_t filter_size(const dts::ConvShape& s) {
  return static_cast<int64_t>(s.filterHeight) * s.filterWidth * s.inChannels * s.outChannels;
}

// conv2d(heap, xOff, wOff, yOff, biasOff, ...geometry)
napi_value Conv2d(napi_env env, napi_callback_info info) {
  return with_heap(env, info, "conv2d", 20, [&](Args& args, float* heap, std::size_t length) {
    const dts::ConvShape s = conv_shape(args, 5);
    const float* x = region(args, heap, length, args.integer(1, "xOff", 0), input_size(s), "x");
    const float* w = region(args, heap, length, args.integer(2, "wOff", 0), filter_size(s), "filter");
    float* y = region(args, heap, length, args.integer(3, "yOff", 0), output_size(s), "y");
    const int64_t biasOff = args.integer(4, "biasOff", -1);
    const float* bias = biasOff < 0 ? nullptr : region(args, heap, length, biasOff, s.outChannels, "bias");
    dts::conv2d(s, x, w, bias, y);
  });
}

// conv2dBackpropInput(heap, dyOff, wOff, dxOff, ...geometry)
napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  return with_heap(env, info, "conv2dBackpropInput", 19, [&](Args& args, float* heap, std::size_t length) {
    const dts::ConvShape s = conv_shape(args, 4);
    const float* dy = region(args, heap, length, args.integer(1, "dyOff", 0), output_size(s), "dy");
    const float* w = region(args, heap, length, args.integer(2, "wOff", 0), filter_size(s), "filter");
    float* dx = region(args, heap, length, args.integer(3, "dxOff", 0), input_size(s), "dx");
    dts::conv2d_backprop_input(s, dy, w, dx);
  });
}

// conv2dBackpropFilter(heap, xOff, dyOff, dwOff, ...geometry)
napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  return with_heap(env, info, "conv2dBackpropFilter", 19, [&](Args& args, float* heap, std::size_t length) {
    const dts::ConvShape s = conv_shape(args, 4);
    const float* x = region(args, heap, length, args.integer(1, "xOff", 0), input_size(s), "x");
    const float* dy = region(args, heap, length, args.integer(2, "dyOff", 0), output_size(s), "dy");
    float* dw = region(args, heap, length, args.integer(3, "dwOff", 0), filter_size(s), "dw");
    dts::conv2d_backprop_filter(s, x, dy, dw);
  });
}

/** Reads argument `index` as an array of at most `max` integers >= min into `out`; returns its length. */
int integer_array(napi_env env, Args& args, napi_value value, const char* what, int max, int64_t min, long* out) {
  bool isArray = false;
  napi_is_array(env, value, &isArray);
  if (!isArray) args.fail(std::string(what) + " must be an array");
  uint32_t length = 0;
  napi_get_array_length(env, value, &length);
  if (length > static_cast<uint32_t>(max)) args.fail(std::string(what) + " has more than " + std::to_string(max) + " entries");
  for (uint32_t i = 0; i < length; ++i) {
    napi_value element;
    double number = 0;
    napi_get_element(env, value, i, &element);
    if (napi_get_value_double(env, element, &number) != napi_ok || number != static_cast<double>(static_cast<int64_t>(number)) ||
        number < static_cast<double>(min) || number > 9007199254740991.0) {
      args.fail(std::string(what) + "[" + std::to_string(i) + "] must be an integer >= " + std::to_string(min));
    }
    out[i] = static_cast<long>(number);
  }
  return static_cast<int>(length);
}

int64_t product(const long* values, int count) {
  int64_t result = 1;
  for (int i = 0; i < count; ++i) {
    if (values[i] != 0 && result > INT64_MAX / 4 / values[i]) throw ArgError{"tensor size overflows"};
    result *= values[i];
  }
  return result;
}

// concat(heap, outOff, outer, offsets[], inner[])
napi_value Concat(napi_env env, napi_callback_info info) {
  return with_heap(env, info, "concat", 5, [&](Args& args, float* heap, std::size_t length) {
    const int64_t outOff = args.integer(1, "outOff", 0), outer = args.integer(2, "outer", 0);
    constexpr int kMaxInputs = 1024;
    std::vector<long> offsets(kMaxInputs), inner(kMaxInputs);
    const int count = integer_array(env, args, args.value(3), "offsets", kMaxInputs, 0, offsets.data());
    if (integer_array(env, args, args.value(4), "inner", kMaxInputs, 0, inner.data()) != count) {
      args.fail("offsets and inner must have the same length");
    }
    std::vector<const float*> inputs(count);
    int64_t width = 0;
    for (int i = 0; i < count; ++i) {
      const long pair[2] = {static_cast<long>(outer), inner[i]};
      inputs[i] = region(args, heap, length, offsets[i], product(pair, 2), "input");
      width += inner[i];
    }
    const long whole[2] = {static_cast<long>(outer), static_cast<long>(width)};
    float* out = region(args, heap, length, outOff, product(whole, 2), "output");
    dts::concat_rows(out, outer, count, inputs.data(), inner.data());
  });
}

// slice(heap, inOff, outOff, shape[], begin[], size[])
napi_value Slice(napi_env env, napi_callback_info info) {
  return with_heap(env, info, "slice", 6, [&](Args& args, float* heap, std::size_t length) {
    long shape[dts::kMaxRank], begin[dts::kMaxRank], size[dts::kMaxRank];
    const int rank = integer_array(env, args, args.value(3), "shape", dts::kMaxRank, 0, shape);
    if (integer_array(env, args, args.value(4), "begin", dts::kMaxRank, 0, begin) != rank ||
        integer_array(env, args, args.value(5), "size", dts::kMaxRank, 0, size) != rank) {
      args.fail("shape, begin and size must have the same length");
    }
    for (int d = 0; d < rank; ++d) {
      if (begin[d] + size[d] > shape[d]) args.fail("the slice exceeds the shape along axis " + std::to_string(d));
    }
    const float* in = region(args, heap, length, args.integer(1, "inOff", 0), product(shape, rank), "input");
    float* out = region(args, heap, length, args.integer(2, "outOff", 0), product(size, rank), "output");
    if (product(size, rank) > 0) dts::copy_slice(in, out, rank, shape, begin, size);
  });
}

// tile(heap, inOff, outOff, shape[], reps[])
napi_value Tile(napi_env env, napi_callback_info info) {
  return with_heap(env, info, "tile", 5, [&](Args& args, float* heap, std::size_t length) {
    long shape[dts::kMaxRank], reps[dts::kMaxRank], outShape[dts::kMaxRank];
    const int rank = integer_array(env, args, args.value(3), "shape", dts::kMaxRank, 0, shape);
    if (integer_array(env, args, args.value(4), "reps", dts::kMaxRank, 0, reps) != rank) args.fail("shape and reps must have the same length");
    for (int d = 0; d < rank; ++d) outShape[d] = shape[d] * reps[d];
    const float* in = region(args, heap, length, args.integer(1, "inOff", 0), product(shape, rank), "input");
    float* out = region(args, heap, length, args.integer(2, "outOff", 0), product(outShape, rank), "output");
    if (product(outShape, rank) > 0) dts::tile(in, out, rank, shape, reps);
  });
}

// binary(heap, op, aOff, na, bOff, nb, outOff, n): op 0 add, 1 sub, 2 mul, 3 div, 4 silu gradient
// (a = x, b = dy); na, nb are n, 1
// or a period dividing n.
napi_value Binary(napi_env env, napi_callback_info info) {
  return with_heap(env, info, "binary", 8, [&](Args& args, float* heap, std::size_t length) {
    const int op = args.size(1, "op");
    if (op > 4) args.fail("op must be 0 (add), 1 (sub), 2 (mul), 3 (div) or 4 (silu gradient)");
    const int64_t n = args.integer(7, "n", 0);
    const int64_t na = args.integer(3, "na", 1), nb = args.integer(5, "nb", 1);
    if (n == 0) return;
    if (n % na != 0 || n % nb != 0 || std::max(na, nb) != n) args.fail("na and nb must divide n, and one of them must be n");
    if (op == 4 && (na != n || nb != n)) args.fail("the silu gradient takes x and dy of n elements each");
    const float* a = region(args, heap, length, args.integer(2, "aOff", 0), na, "a");
    const float* b = region(args, heap, length, args.integer(4, "bOff", 0), nb, "b");
    float* out = region(args, heap, length, args.integer(6, "outOff", 0), n, "out");
    dts::binary(static_cast<dts::BinaryOp>(op), a, na, b, nb, out, n);
  });
}

// unary(heap, op, xOff, outOff, n): op 0 square, 1 sqrt, 2 rsqrt, 3 neg, 4 sigmoid, 5 silu.
napi_value Unary(napi_env env, napi_callback_info info) {
  return with_heap(env, info, "unary", 5, [&](Args& args, float* heap, std::size_t length) {
    const int op = args.size(1, "op");
    if (op > 5) args.fail("op must be 0 (square), 1 (sqrt), 2 (rsqrt), 3 (neg), 4 (sigmoid) or 5 (silu)");
    const int64_t n = args.integer(4, "n", 0);
    const float* x = region(args, heap, length, args.integer(2, "xOff", 0), n, "x");
    float* out = region(args, heap, length, args.integer(3, "outOff", 0), n, "out");
    if (n > 0) dts::unary(static_cast<dts::UnaryOp>(op), x, out, n);
  });
}

// reduceSum(heap, xOff, outOff, outer, inner, overRows)
napi_value ReduceSum(napi_env env, napi_callback_info info) {
  return with_heap(env, info, "reduceSum", 6, [&](Args& args, float* heap, std::size_t length) {
    long shape[2] = {static_cast<long>(args.integer(3, "outer", 0)), static_cast<long>(args.integer(4, "inner", 0))};
    const bool overRows = args.flag(5, "overRows");
    const float* x = region(args, heap, length, args.integer(1, "xOff", 0), product(shape, 2), "x");
    float* out = region(args, heap, length, args.integer(2, "outOff", 0), overRows ? shape[1] : shape[0], "out");
    dts::reduce_sum(x, out, shape[0], shape[1], overRows);
  });
}

// addN(heap, offsets[], outOff, n)
napi_value AddN(napi_env env, napi_callback_info info) {
  return with_heap(env, info, "addN", 4, [&](Args& args, float* heap, std::size_t length) {
    constexpr int kMaxInputs = 1024;
    std::vector<long> offsets(kMaxInputs);
    const int count = integer_array(env, args, args.value(1), "offsets", kMaxInputs, 0, offsets.data());
    if (count == 0) args.fail("offsets must not be empty");
    const int64_t n = args.integer(3, "n", 0);
    std::vector<const float*> inputs(count);
    for (int i = 0; i < count; ++i) inputs[i] = region(args, heap, length, offsets[i], n, "input");
    float* out = region(args, heap, length, args.integer(2, "outOff", 0), n, "out");
    if (n > 0) dts::add_n(inputs.data(), count, out, n);
  });
}

// adamUpdate(heap, wOff, gOff, mOff, vOff, outWOff, outMOff, outVOff, n, lr, beta1, beta2, epsilon,
//            weightDecay, correction1, correction2)
napi_value AdamUpdate(napi_env env, napi_callback_info info) {
  return with_heap(env, info, "adamUpdate", 16, [&](Args& args, float* heap, std::size_t length) {
    const int64_t n = args.integer(8, "n", 0);
    const char* names[7] = {"w", "g", "m", "v", "outW", "outM", "outV"};
    float* regions[7];
    for (int i = 0; i < 7; ++i) regions[i] = region(args, heap, length, args.integer(1 + i, names[i], 0), n, names[i]);
    dts::AdamHyper hyper{};
    double* fields[7] = {&hyper.learningRate, &hyper.beta1, &hyper.beta2, &hyper.epsilon, &hyper.weightDecay, &hyper.correction1, &hyper.correction2};
    const char* fieldNames[7] = {"learningRate", "beta1", "beta2", "epsilon", "weightDecay", "correction1", "correction2"};
    for (int i = 0; i < 7; ++i) *fields[i] = args.number(9 + i, fieldNames[i]);
    if (!(hyper.correction1 > 0) || !(hyper.correction2 > 0)) args.fail("correction1 and correction2 must be positive");
    if (n > 0) dts::adam_update(regions[0], regions[1], regions[2], regions[3], regions[4], regions[5], regions[6], n, hyper);
  });
}

// groupNorm(heap, xOff, gammaOff, betaOff, outOff, centeredOff, inverseStdOff, batch, pixels, channels, groups, epsilon)
napi_value GroupNorm(napi_env env, napi_callback_info info) {
  return with_heap(env, info, "groupNorm", 12, [&](Args& args, float* heap, std::size_t length) {
    const int64_t batch = args.integer(7, "batch", 0), pixels = args.integer(8, "pixels", 0);
    const int64_t channels = args.integer(9, "channels", 1), groups = args.integer(10, "groups", 1);
    const double epsilon = args.number(11, "epsilon");
    if (channels % groups != 0) args.fail("channels must be a multiple of groups");
    if (epsilon < 0) args.fail("epsilon must be >= 0");
    if (batch > INT32_MAX) args.fail("batch is too large");
    const long shape[3] = {static_cast<long>(batch), static_cast<long>(pixels), static_cast<long>(channels)};
    const int64_t size = product(shape, 3);
    const float* x = region(args, heap, length, args.integer(1, "xOff", 0), size, "x");
    const float* gamma = region(args, heap, length, args.integer(2, "gammaOff", 0), channels, "gamma");
    const float* beta = region(args, heap, length, args.integer(3, "betaOff", 0), channels, "beta");
    float* out = region(args, heap, length, args.integer(4, "outOff", 0), size, "out");
    float* centered = region(args, heap, length, args.integer(5, "centeredOff", 0), size, "centered");
    float* inverseStd = region(args, heap, length, args.integer(6, "inverseStdOff", 0), batch * channels, "inverseStd");
    if (size > 0) dts::group_norm(x, gamma, beta, out, centered, inverseStd, batch, pixels, channels, groups, epsilon);
  });
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor properties[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"measurePeak", nullptr, MeasurePeak, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"groupNorm", nullptr, GroupNorm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"reduceSum", nullptr, ReduceSum, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"addN", nullptr, AddN, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"adamUpdate", nullptr, AdamUpdate, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"concat", nullptr, Concat, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"slice", nullptr, Slice, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"tile", nullptr, Tile, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"conv2dBackpropInput", nullptr, Conv2dBackpropInput, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2dBackpropFilter, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
