// Integer Conv and MatMul whose weights are quantized per group (W4A8 / W8A8 with groups of 32, 64, 128 inputs of
// each output channel; ir/quant_params.h states the grouping). Each group has its own scale s_w[m, g] and zero
// point, so its products cannot share one int32 accumulator with the other groups. The arithmetic:
//
//   acc_g[m] = sum over the inputs k of group g of channel m of (q_x - z_x) * (q_w - z_w[m, g])   (int32, checked)
//   acc[m]   = round_half_even(sum_g acc_g[m] * s_w[m, g] / s_ref[m]) + q_b[m]                    (sum in double)
//   q_y      = clamp(requantize(acc[m], M[m]) + z_y, min, max)      M[m] = s_x * s_ref[m] / s_y, the target's variant
//
// with s_ref[m] = max_g s_w[m, g], the channel's coarsest group (each ratio is <= 1, and the int32 bias is stored at
// s_x * s_ref[m]). The per-group int32 sums are those of ONNX Runtime's MatMulNBits (accuracy_level 4, MLAS
// SQNBitGemm CompInt8) and of llama.cpp's Q4_0 x Q8_0 dot product, which then scale each block sum in float. How
// an NPU brings the groups together is not published by any vendor in our profiles: unknown - assumed one rescale
// of each group sum onto the channel's coarsest group scale, rounded once half to even, then the target's own
// per-channel requantization (so the target's multiplier error and double rounding still apply).
#pragma once

#include <cstdint>
#include <vector>

#include "npukit/tensor.h"
#include "runtime/kernels/integer/convolution.h"
#include "runtime/kernels/integer/matmul.h"

namespace npukit::runtime::integer {

struct WeightGroups {
  int64_t group_size = 0;             // inputs per group within an output channel
  std::vector<double> ratios;         // s_w[m, g] / s_ref[m], [channels, groups] row-major
  std::vector<int32_t> zero_points;   // z_w[m, g], same layout (empty: all 0)
};

// One output channel's accumulator from its rescaled group sums (sum_g acc_g * s_w[m, g] / s_ref[m]): rounded once
// half to even, plus the int32 bias; Error(unsupported) when it leaves int32. Shared with the rounding optimizer
// (quantization/algorithms/learned_rounding.cpp), so both round the same way.
int32_t grouped_channel_accumulator(double rescaled_sum, int32_t bias);

// input [N, C, H, W], weights [M, C / group, KH, KW] with groups over each output channel's C/group x KH x KW
// inputs in (c, kh, kw) order; parameters.weight_zero_points is ignored (groups.zero_points holds them). Throws
// Error(invalid_argument) for shapes or groups that do not fit and Error(unsupported) when an int32 leaves int32.
Tensor grouped_convolution(const Tensor& input, const Tensor& weights, const Tensor* bias,
                           const ConvolutionParameters& parameters, const WeightGroups& groups);

// a [..., M, K], b [K, N] with groups along K of each column; parameters.b_zero_points is ignored.
Tensor grouped_matmul(const Tensor& a, const Tensor& b, const Tensor* bias, const MatMulParameters& parameters,
                      const WeightGroups& groups);

}  // namespace npukit::runtime::integer
