#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define DTS_X86 1
#endif

namespace dts {

void pack_b(const float* B, long rs, long cs, int K, int N, float* out) {
  const int NR = tile_columns();
  for (int k0 = 0; k0 < K; k0 += kKC) {
    const int kc = std::min(kKC, K - k0);
    for (int j0 = 0; j0 < N; j0 += NR) {
      const int nr = std::min(NR, N - j0);
      for (int k = 0; k < kc; ++k) {
        const float* row = B + (k0 + k) * rs + j0 * cs;
        float* dst = out + k * NR;
        if (cs == 1) {
          std::memcpy(dst, row, sizeof(float) * nr);
        } else {
          for (int j = 0; j < nr; ++j) dst[j] = row[j * cs];
        }
        for (int j = nr; j < NR; ++j) dst[j] = 0.0f;
      }
      out += static_cast<std::size_t>(kc) * NR;
    }
  }
}

namespace {

/** Packs rows [i0, i0 + mc) and depth [k0, k0 + kc) of A into kMR-row panels, zero-padding the last one. */
void pack_a(const AView& a, int i0, int mc, int k0, int kc, float* out) {
  for (int p0 = 0; p0 < mc; p0 += kMR) {
    const int mr = std::min(kMR, mc - p0);
    const int row0 = i0 + p0 + (a.kind == AView::Kind::Strided ? 0 : a.first);
    switch (a.kind) {
      case AView::Kind::Strided:
        if (a.cs == 1) {
          for (int r = 0; r < mr; ++r) {
            const float* row = a.base + (row0 + r) * a.rs + k0;
            for (int k = 0; k < kc; ++k) out[k * kMR + r] = row[k];
          }
        } else {
          for (int k = 0; k < kc; ++k) {
            const float* column = a.base + row0 * a.rs + (k0 + k) * a.cs;
            for (int r = 0; r < mr; ++r) out[k * kMR + r] = column[r * a.rs];
          }
        }
        break;
      case AView::Kind::Rows:
        // Walk the depth range one tap segment at a time; within it every row is contiguous.
        for (int k = k0; k < k0 + kc;) {
          const int t = k / a.width, c = k % a.width;
          const int length = std::min(a.width - c, k0 + kc - k);
          float* dst = out + (k - k0) * kMR;
          for (int r = 0; r < mr; ++r) {
            const float* src = a.tap[static_cast<long>(row0 + r) * a.taps + t];
            if (src == nullptr) {
              for (int j = 0; j < length; ++j) dst[j * kMR + r] = 0.0f;
            } else {
              src += c;
              for (int j = 0; j < length; ++j) dst[j * kMR + r] = src[j];
            }
          }
          k += length;
        }
        break;
      case AView::Kind::Columns: {
        int tapOf[kMR], channelOf[kMR];
        for (int r = 0; r < mr; ++r) {
          tapOf[r] = (row0 + r) / a.width;
          channelOf[r] = (row0 + r) % a.width;
        }
        if (mr == kMR && tapOf[0] == tapOf[kMR - 1]) {
          // The panel's rows are six consecutive channels of one tap: one contiguous read per pixel.
          for (int k = 0; k < kc; ++k) {
            const float* src = a.tap[static_cast<long>(k0 + k) * a.taps + tapOf[0]];
            float* dst = out + k * kMR;
            if (src == nullptr) {
              for (int r = 0; r < kMR; ++r) dst[r] = 0.0f;
            } else {
              for (int r = 0; r < kMR; ++r) dst[r] = src[channelOf[0] + r];
            }
          }
          break;
        }
        for (int k = 0; k < kc; ++k) {
          const float* const* pixel = a.tap + static_cast<long>(k0 + k) * a.taps;
          float* dst = out + k * kMR;
          for (int r = 0; r < mr; ++r) {
            const float* src = pixel[tapOf[r]];
            dst[r] = src == nullptr ? 0.0f : src[channelOf[r]];
          }
        }
        break;
      }
    }
    for (int r = mr; r < kMR; ++r) {
      for (int k = 0; k < kc; ++k) out[k * kMR + r] = 0.0f;
    }
    out += static_cast<std::size_t>(kc) * kMR;
  }
}

/** Writes (or adds) the valid mr x nr corner of a full tile whose rows are `width` floats apart. */
inline void store_tile(const float* tile, int width, float* C, long ldc, bool accumulate, int mr, int nr) {
  for (int r = 0; r < mr; ++r) {
    float* row = C + r * ldc;
    const float* src = tile + r * width;
    if (accumulate) {
      for (int j = 0; j < nr; ++j) row[j] += src[j];
    } else {
      for (int j = 0; j < nr; ++j) row[j] = src[j];
    }
  }
}

using KernelFunction = void (*)(int kc, const float* A, const float* B, float* C, long ldc, bool accumulate, int mr,
                                int nr);

struct Kernel {
  KernelFunction run;
  int columns;
  const char* isa;
};

void kernel_generic(int kc, const float* A, const float* B, float* C, long ldc, bool accumulate, int mr, int nr) {
  constexpr int NR = 16;
  float tile[kMR * NR] = {};
  for (int k = 0; k < kc; ++k) {
    for (int r = 0; r < kMR; ++r) {
      const float a = A[r];
      for (int j = 0; j < NR; ++j) tile[r * NR + j] += a * B[j];
    }
    A += kMR;
    B += NR;
  }
  store_tile(tile, NR, C, ldc, accumulate, mr, nr);
}

#ifdef DTS_X86
// The 6 x (2 vectors) register tile: 12 accumulators, two B vectors and one broadcast A value per
// step. VEC is the vector type, W its width in floats; the intrinsics are passed in by name.
#define DTS_TILE_KERNEL(NAME, TARGET, VEC, W, ZERO, LOAD, LOADU, STOREU, STORE, ADD, BROADCAST, FMA)          \
  __attribute__((target(TARGET))) void NAME(int kc, const float* A, const float* B, float* C, long ldc,         \
                                            bool accumulate, int mr, int nr) {                                   \
    VEC c00 = ZERO(), c01 = ZERO(), c10 = ZERO(), c11 = ZERO(), c20 = ZERO(), c21 = ZERO();                      \
    VEC c30 = ZERO(), c31 = ZERO(), c40 = ZERO(), c41 = ZERO(), c50 = ZERO(), c51 = ZERO();                      \
    for (int k = 0; k < kc; ++k) {                                                                               \
      const VEC b0 = LOAD(B);                                                                                    \
      const VEC b1 = LOAD(B + W);                                                                                \
      VEC a = BROADCAST(A[0]);                                                                                   \
      c00 = FMA(a, b0, c00);                                                                                     \
      c01 = FMA(a, b1, c01);                                                                                     \
      a = BROADCAST(A[1]);                                                                                       \
      c10 = FMA(a, b0, c10);                                                                                     \
      c11 = FMA(a, b1, c11);                                                                                     \
      a = BROADCAST(A[2]);                                                                                       \
      c20 = FMA(a, b0, c20);                                                                                     \
      c21 = FMA(a, b1, c21);                                                                                     \
      a = BROADCAST(A[3]);                                                                                       \
      c30 = FMA(a, b0, c30);                                                                                     \
      c31 = FMA(a, b1, c31);                                                                                     \
      a = BROADCAST(A[4]);                                                                                       \
      c40 = FMA(a, b0, c40);                                                                                     \
      c41 = FMA(a, b1, c41);                                                                                     \
      a = BROADCAST(A[5]);                                                                                       \
      c50 = FMA(a, b0, c50);                                                                                     \
      c51 = FMA(a, b1, c51);                                                                                     \
      A += kMR;                                                                                                  \
      B += 2 * W;                                                                                                \
    }                                                                                                            \
    const VEC tile[kMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};          \
    if (mr == kMR && nr == 2 * W) {                                                                              \
      for (int r = 0; r < kMR; ++r) {                                                                            \
        float* row = C + r * ldc;                                                                                \
        if (accumulate) {                                                                                        \
          STOREU(row, ADD(LOADU(row), tile[r][0]));                                                              \
          STOREU(row + W, ADD(LOADU(row + W), tile[r][1]));                                                      \
        } else {                                                                                                 \
          STOREU(row, tile[r][0]);                                                                               \
          STOREU(row + W, tile[r][1]);                                                                           \
        }                                                                                                        \
      }                                                                                                          \
      return;                                                                                                    \
    }                                                                                                            \
    alignas(64) float spill[kMR * 2 * W];                                                                        \
    for (int r = 0; r < kMR; ++r) {                                                                              \
      STORE(spill + r * 2 * W, tile[r][0]);                                                                      \
      STORE(spill + r * 2 * W + W, tile[r][1]);                                                                  \
    }                                                                                                            \
    store_tile(spill, 2 * W, C, ldc, accumulate, mr, nr);                                                        \
  }

DTS_TILE_KERNEL(kernel_avx2, "avx2,fma", __m256, 8, _mm256_setzero_ps, _mm256_load_ps, _mm256_loadu_ps,
                _mm256_storeu_ps, _mm256_store_ps, _mm256_add_ps, _mm256_set1_ps, _mm256_fmadd_ps)
DTS_TILE_KERNEL(kernel_avx512, "avx512f", __m512, 16, _mm512_setzero_ps, _mm512_load_ps, _mm512_loadu_ps,
                _mm512_storeu_ps, _mm512_store_ps, _mm512_add_ps, _mm512_set1_ps, _mm512_fmadd_ps)
#undef DTS_TILE_KERNEL
#endif

// Few rows: with B row-major, C's rows are axpy'd with B's rows (vectorised over j); with B
// transposed, each C element is a dot product along k (vectorised over k).
#define DTS_SMALL_M_BODY                                                                                    \
  {                                                                                                        \
    for (int i = 0; i < m; ++i) std::fill(C + i * ldc + j0, C + i * ldc + j1, 0.0f);                       \
    if (csB == 1) {                                                                                        \
      for (int k = 0; k < K; ++k) {                                                                        \
        const float* __restrict b = B + k * rsB;                                                           \
        for (int i = 0; i < m; ++i) {                                                                      \
          const float a = A[i * rsA + k * csA];                                                            \
          float* __restrict c = C + i * ldc;                                                               \
          _Pragma("omp simd") for (int j = j0; j < j1; ++j) c[j] += a * b[j];                              \
        }                                                                                                  \
      }                                                                                                    \
    } else {                                                                                               \
      for (int j = j0; j < j1; ++j) {                                                                      \
        const float* __restrict b = B + j * csB;                                                           \
        for (int i = 0; i < m; ++i) {                                                                      \
          const float* __restrict a = A + i * rsA;                                                         \
          float sum = 0.0f;                                                                                \
          if (csA == 1 && rsB == 1) {                                                                      \
            _Pragma("omp simd reduction(+ : sum)") for (int k = 0; k < K; ++k) sum += a[k] * b[k];         \
          } else {                                                                                         \
            for (int k = 0; k < K; ++k) sum += a[k * csA] * b[k * rsB];                                    \
          }                                                                                                \
          C[i * ldc + j] = sum;                                                                            \
        }                                                                                                  \
      }                                                                                                    \
    }                                                                                                      \
  }

using SmallM = void (*)(int m, int j0, int j1, int K, const float* A, long rsA, long csA, const float* B, long rsB,
                        long csB, float* C, long ldc);

void small_m_generic(int m, int j0, int j1, int K, const float* A, long rsA, long csA, const float* B, long rsB,
                     long csB, float* C, long ldc) DTS_SMALL_M_BODY

#ifdef DTS_X86
__attribute__((target("avx2,fma"))) void small_m_avx2(int m, int j0, int j1, int K, const float* A, long rsA, long csA,
                                                      const float* B, long rsB, long csB, float* C, long ldc)
    DTS_SMALL_M_BODY

__attribute__((target("avx512f"))) void small_m_avx512(int m, int j0, int j1, int K, const float* A, long rsA, long csA,
                                                       const float* B, long rsB, long csB, float* C, long ldc)
    DTS_SMALL_M_BODY
#endif
#undef DTS_SMALL_M_BODY

Kernel select_kernel() {
#ifdef DTS_X86
  __builtin_cpu_init();
  const char* forced = std::getenv("DIFFUSION_TS_NATIVE_ISA");
  const bool allow512 = forced == nullptr || std::strcmp(forced, "avx512") == 0;
  const bool allow256 = forced == nullptr || std::strcmp(forced, "avx512") == 0 || std::strcmp(forced, "avx2-fma") == 0;
  if (allow512 && __builtin_cpu_supports("avx512f")) return {kernel_avx512, 32, "avx512"};
  if (allow256 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {kernel_avx2, 16, "avx2-fma"};
#endif
  return {kernel_generic, 16, "generic"};
}

const Kernel kernel = select_kernel();

SmallM select_small_m() {
#ifdef DTS_X86
  if (kernel.run == kernel_avx512) return small_m_avx512;
  if (kernel.run == kernel_avx2) return small_m_avx2;
#endif
  return small_m_generic;
}

const SmallM small_m = select_small_m();

}  // namespace

const char* gemm_isa() { return kernel.isa; }

void gemm_small_m(int m, int j0, int j1, int K, const float* A, long rsA, long csA, const float* B, long rsB, long csB,
                  float* C, long ldc) {
  small_m(m, j0, j1, K, A, rsA, csA, B, rsB, csB, C, ldc);
}

int tile_columns() { return kernel.columns; }

int column_blocks(int rowTasks, int N, int threads) {
  if (threads <= 1 || rowTasks >= 2 * threads) return 1;
  const int panels = (N + kernel.columns - 1) / kernel.columns;
  const int wanted = (2 * threads + rowTasks - 1) / rowTasks;
  return std::max(1, std::min(panels, wanted));
}

int column_block_start(int block, int blocks, int N) {
  const int panels = (N + kernel.columns - 1) / kernel.columns;
  return std::min(N, static_cast<int>(static_cast<long>(panels) * block / blocks) * kernel.columns);
}

void gemm_rows(int mc, int N, int K, const AView& a, const float* packedB, float* C, long ldc, bool accumulate,
               float* scratch, int jBegin, int jEnd) {
  if (jEnd < 0 || jEnd > N) jEnd = N;
  if (K == 0) {
    if (!accumulate) {
      for (int i = 0; i < mc; ++i) std::fill(C + i * ldc + jBegin, C + i * ldc + jEnd, 0.0f);
    }
    return;
  }
  const int NR = kernel.columns;
  const long paddedN = (N + NR - 1) / NR * NR;
  for (int k0 = 0; k0 < K; k0 += kKC) {
    const int kc = std::min(kKC, K - k0);
    const float* bBlock = packedB + static_cast<long>(k0) * paddedN;
    const bool add = accumulate || k0 > 0;
    for (int i0 = 0; i0 < mc; i0 += kMC) {
      const int rows = std::min(kMC, mc - i0);
      pack_a(a, i0, rows, k0, kc, scratch);
      for (int j0 = jBegin; j0 < jEnd; j0 += NR) {
        const int nr = std::min(NR, jEnd - j0);
        const float* bPanel = bBlock + static_cast<long>(j0) * kc;
        for (int ir = 0; ir < rows; ir += kMR) {
          kernel.run(kc, scratch + static_cast<long>(ir) * kc, bPanel, C + (i0 + ir) * ldc + j0, ldc, add,
                 std::min(kMR, rows - ir), nr);
        }
      }
    }
  }
}

}  // namespace dts
