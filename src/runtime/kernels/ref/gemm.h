// Dense matrix multiply-accumulate used by the reference Conv, ConvTranspose, MatMul and Gemm kernels.
//
// Why a shared routine: whole models (ResNet50, YOLOv5s) run on the reference backend in tests, so the
// float path must not be a naive triple loop. The routine tiles the output in 4 x 16 blocks held in
// registers and walks k innermost-but-one, so the compiler vectorizes the 16-wide column loop; it is
// still plain C++ and accumulates in T (float stays float, as ONNX Runtime does).
#pragma once

#include <cstdint>

namespace npukit::runtime::ref {

// C[m x n] += A[m x k] * B[k x n]; all row-major with leading dimensions lda, ldb, ldc (in elements).
void gemm_accumulate(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
                     float* c, int64_t ldc);
void gemm_accumulate(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b, int64_t ldb,
                     double* c, int64_t ldc);

// Exact version for integer element types (MatMul on integer tensors, ConvInteger, QLinear*): a plain
// i-k-j loop accumulating in T; callers pick a T wide enough for their sums (int64_t for 8-bit inputs).
template <typename T>
void gemm_accumulate_exact(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, T* c,
                           int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    T* c_row = c + i * ldc;
    for (int64_t p = 0; p < k; ++p) {
      const T a_value = a[i * lda + p];
      if (a_value == T(0)) continue;
      const T* b_row = b + p * ldb;
      for (int64_t j = 0; j < n; ++j) c_row[j] += a_value * b_row[j];
    }
  }
}

}  // namespace npukit::runtime::ref
