#include "runtime/kernels/ref/gemm.h"

#include <algorithm>
#include <cstring>

namespace npukit::runtime::ref {

namespace {

constexpr int64_t kTileRows = 4;
constexpr int64_t kTileColumns = 16;

// One full 4 x 16 tile: the accumulators stay in registers across the whole k loop. Written with GCC/Clang
// vector types (32 bytes: 8 floats or 4 doubles) because the plain-array form of the same loop was not kept
// in registers by GCC 12 (2 GFLOP/s instead of 20+).
template <typename T>
[[gnu::always_inline]] inline void full_tile(int64_t k, const T* __restrict a, int64_t lda, const T* __restrict b,
                                             int64_t ldb, T* __restrict c, int64_t ldc) {
  // An unaligned, aliasing-safe view of 32 bytes of T.
  typedef T Vector __attribute__((vector_size(32), aligned(alignof(T)), may_alias));
  constexpr int64_t lanes = 32 / sizeof(T);
  constexpr int64_t vectors = kTileColumns / lanes;
  Vector accumulator[kTileRows][vectors] = {};
  for (int64_t p = 0; p < k; ++p) {
    const Vector* b_row = reinterpret_cast<const Vector*>(b + p * ldb);
    Vector b_values[vectors];
    for (int64_t v = 0; v < vectors; ++v) b_values[v] = b_row[v];
    for (int64_t r = 0; r < kTileRows; ++r) {
      const T a_value = a[r * lda + p];
      for (int64_t v = 0; v < vectors; ++v) accumulator[r][v] += a_value * b_values[v];
    }
  }
  for (int64_t r = 0; r < kTileRows; ++r) {
    Vector* c_row = reinterpret_cast<Vector*>(c + r * ldc);
    for (int64_t v = 0; v < vectors; ++v) c_row[v] += accumulator[r][v];
  }
}

// Edge tiles (fewer rows or columns): the same order of operations, without the fixed trip counts.
template <typename T>
[[gnu::always_inline]] inline void partial_tile(int64_t rows, int64_t columns, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
                         T* c, int64_t ldc) {
  T accumulator[kTileRows][kTileColumns] = {};
  for (int64_t p = 0; p < k; ++p) {
    const T* b_row = b + p * ldb;
    for (int64_t r = 0; r < rows; ++r) {
      const T a_value = a[r * lda + p];
      for (int64_t j = 0; j < columns; ++j) accumulator[r][j] += a_value * b_row[j];
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < columns; ++j) c[r * ldc + j] += accumulator[r][j];
  }
}

template <typename T>
[[gnu::always_inline]] inline void gemm_tiled(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, T* c,
                       int64_t ldc) {
  // Cache blocking: a depth x width block of B (256 x 256, 256 KiB of float) stays in L2 while every
  // 4-row strip of A runs over it; each strip (4 x 256) stays in L1 across the block's 16-column panels.
  constexpr int64_t kDepthBlock = 256;
  constexpr int64_t kWidthBlock = 256;
  for (int64_t p0 = 0; p0 < k; p0 += kDepthBlock) {
    const int64_t depth = std::min(kDepthBlock, k - p0);
    for (int64_t j1 = 0; j1 < n; j1 += kWidthBlock) {
      const int64_t width_end = std::min(n, j1 + kWidthBlock);
      for (int64_t i0 = 0; i0 < m; i0 += kTileRows) {
        const int64_t rows = std::min(kTileRows, m - i0);
        for (int64_t j0 = j1; j0 < width_end; j0 += kTileColumns) {
          const int64_t columns = std::min(kTileColumns, width_end - j0);
          const T* a_tile = a + i0 * lda + p0;
          const T* b_tile = b + p0 * ldb + j0;
          T* c_tile = c + i0 * ldc + j0;
          if (rows == kTileRows && columns == kTileColumns) {
            full_tile(depth, a_tile, lda, b_tile, ldb, c_tile, ldc);
          } else {
            partial_tile(rows, columns, depth, a_tile, lda, b_tile, ldb, c_tile, ldc);
          }
        }
      }
    }
  }
}

}  // namespace

// On x86-64 the routine is compiled twice, for the baseline and for AVX2+FMA, and the loader picks the
// one the machine supports; the C++ is the same, only the vector width differs.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NPUKIT_GEMM_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define NPUKIT_GEMM_CLONES
#endif

NPUKIT_GEMM_CLONES
void gemm_accumulate(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
                     float* c, int64_t ldc) {
  gemm_tiled(m, n, k, a, lda, b, ldb, c, ldc);
}

NPUKIT_GEMM_CLONES
void gemm_accumulate(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b, int64_t ldb,
                     double* c, int64_t ldc) {
  gemm_tiled(m, n, k, a, lda, b, ldb, c, ldc);
}

}  // namespace npukit::runtime::ref
