// Integer matrix product (ONNX MatMul / Gemm as TFLite FULLY_CONNECTED and BATCH_MATMUL compute them):
//   acc[.., i, j] = sum_k (q_a[.., i, k] - z_a) * (q_b[k, j] - z_b[j]) + q_bias[j]     (int32)
//   q_y = clamp(requantize(acc, M[j]) + z_y, min, max)                                M[j] = s_a * s_b[j] / s_y
// The second operand is [K, N] (a weight; per-channel along N) or has the first operand's leading dims.
#pragma once

#include <cstdint>
#include <vector>

#include "npukit/tensor.h"
#include "runtime/kernels/integer/output_stage.h"

namespace npukit::runtime::integer {

struct MatMulParameters {
  int32_t a_zero_point = 0;
  std::vector<int32_t> b_zero_points;  // empty: 0; one, or one per column
  OutputStage output;                  // its requantizer: one multiplier, or one per column
};

// a [..., M, K], b [K, N] or [..., K, N] (same leading dims), bias [N] int32 or null.
Tensor matmul(const Tensor& a, const Tensor& b, const Tensor* bias, const MatMulParameters& parameters);

}  // namespace npukit::runtime::integer
