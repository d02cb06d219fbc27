#include "runtime/kernels/ref/gemm.h"

#include <algorithm>

namespace npukit::runtime::ref {

namespace {

constexpr int64_t kTileRows = 4;
constexpr int64_t kTileColumns = 16;

// One full 4 x 16 tile: the accumulators stay in registers across the whole k loop.
template <typename T>
[[gnu::always_inline]] inline void full_tile(int64_t k, const T* __restrict a, int64_t lda, const T* __restrict b, int64_t ldb,
                      T* __restrict c, int64_t ldc) {
  T accumulator[kTileRows][kTileColumns] = {};
  for (int64_t p = 0; p < k; ++p) {
    const T* b_row = b + p * ldb;
    for (int64_t r = 0; r < kTileRows; ++r) {
      const T a_value = a[r * lda + p];
      for (int64_t j = 0; j < kTileColumns; ++j) accumulator[r][j] += a_value * b_row[j];
    }
  }
  for (int64_t r = 0; r < kTileRows; ++r) {
    for (int64_t j = 0; j < kTileColumns; ++j) c[r * ldc + j] += accumulator[r][j];
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
  // Blocks of k keep the B panel (k_block x 16) in L1 while the 4 A rows stream.
  constexpr int64_t kDepthBlock = 256;
  for (int64_t p0 = 0; p0 < k; p0 += kDepthBlock) {
    const int64_t depth = std::min(kDepthBlock, k - p0);
    for (int64_t j0 = 0; j0 < n; j0 += kTileColumns) {
      const int64_t columns = std::min(kTileColumns, n - j0);
      for (int64_t i0 = 0; i0 < m; i0 += kTileRows) {
        const int64_t rows = std::min(kTileRows, m - i0);
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
