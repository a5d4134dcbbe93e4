// Packed single-precision matrix multiply (the BLIS structure: B packed in kc x NR panels, A in
// 6 x kc panels, a 6 x NR register-tile micro-kernel: 6 x 32 with AVX-512, 6 x 16 with AVX2+FMA).
#pragma once

#include <cstddef>

namespace dts {

constexpr int kMR = 6;     // rows of the register tile
constexpr int kMaxNR = 32; // widest register tile (two 16-float AVX-512 vectors)
constexpr int kKC = 256;   // depth of one packed block (an A panel and a B panel stay in L1/L2)
constexpr int kMC = 96;    // rows of A packed at once

/** Columns of the register tile on this CPU: 32 with AVX-512, else 16. */
int tile_columns();

/** Floats `pack_b` writes for a K x N matrix. */
inline std::size_t packed_b_size(int K, int N) {
  const int nr = tile_columns();
  return static_cast<std::size_t>(K) * static_cast<std::size_t>((N + nr - 1) / nr * nr);
}

/** Floats of scratch `gemm_rows` needs for its packed A block. */
inline std::size_t packed_a_size() { return static_cast<std::size_t>(kMC) * kKC; }

/** Packs B (element (k, j) at B[k * rs + j * cs]) for `gemm_rows`. */
void pack_b(const float* B, long rs, long cs, int K, int N, float* out);

/**
 * How `gemm_rows` reads A(i, k). Convolutions never build their im2col matrix: its rows are
 * gathered straight into the packed panels from per-pixel tap pointers.
 */
struct AView {
  enum class Kind {
    /** A(i, k) = base[i * rs + k * cs]. */
    Strided,
    /** Row i is `taps` segments of `width` floats: A(i, t * width + c) = tap[i * taps + t][c] (null: zeros). */
    Rows,
    /** The transpose of Rows: A(i, k) = tap[k * taps + i / width][i % width]. */
    Columns,
  };
  Kind kind = Kind::Strided;
  const float* base = nullptr;
  long rs = 0, cs = 0;
  const float* const* tap = nullptr;
  int taps = 1, width = 0;
  /** Rows and Columns: the view's row 0 is row `first` of the gathered matrix. */
  int first = 0;

  /** The same matrix without its first `rows` rows. */
  AView from_row(int rows) const {
    AView view = *this;
    if (kind == Kind::Strided) {
      view.base += rows * rs;
    } else {
      view.first += rows;
    }
    return view;
  }

  static AView strided(const float* base, long rs, long cs) {
    AView view;
    view.base = base;
    view.rs = rs;
    view.cs = cs;
    return view;
  }
  static AView gathered(Kind kind, const float* const* tap, int taps, int width) {
    AView view;
    view.kind = kind;
    view.tap = tap;
    view.taps = taps;
    view.width = width;
    return view;
  }
};

/**
 * C[i, j] (+)= sum_k A(i, k) B(k, j) for i < mc, j in [jBegin, jEnd) (default: all N columns): A
 * as `a` describes, B (all N columns) packed by `pack_b`, C row-major with leading dimension ldc.
 * jBegin must be a multiple of tile_columns(). With `accumulate` false C is overwritten (also when
 * K is 0). `scratch` holds at least packed_a_size() floats.
 */
void gemm_rows(int mc, int N, int K, const AView& a, const float* packedB, float* C, long ldc, bool accumulate,
               float* scratch, int jBegin = 0, int jEnd = -1);

/**
 * How many column blocks (each a multiple of tile_columns() wide) to split N into so that
 * rowTasks x blocks gives every one of `threads` workers about two tasks.
 */
int column_blocks(int rowTasks, int N, int threads);

/** The first column of block `block` of `blocks` over N columns. */
int column_block_start(int block, int blocks, int N);

/** Rows up to which `gemm_small_m` beats packing (linear layers at small batch, GroupNorm's sums). */
constexpr int kSmallM = 8;

/**
 * C[i, j] = sum_k A(i, k) B(k, j) for i < m <= kSmallM, j < n, without packing: B (element (k, j)
 * at B[k * rsB + j * csB]) is streamed once, which is what bounds a product with so few rows.
 * Columns [j0, j1) only, so that callers can split the columns over threads.
 */
void gemm_small_m(int m, int j0, int j1, int K, const float* A, long rsA, long csA, const float* B, long rsB, long csB,
                  float* C, long ldc);

/** "avx512", "avx2-fma" or "generic": the micro-kernel this CPU runs. */
const char* gemm_isa();

}  // namespace dts
