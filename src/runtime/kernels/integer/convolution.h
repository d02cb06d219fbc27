// Integer 2-D convolution (NCHW), the TFLite reference ConvPerChannel / DepthwiseConvPerChannel arithmetic:
//   acc[m] = sum (q_x - z_x) * (q_w[m] - z_w[m]) + q_b[m]      (int32; padding contributes nothing)
//   q_y    = clamp(requantize(acc[m], M[m]) + z_y, min, max)   M[m] = s_x * s_w[m] / s_y
// Groups cover ordinary, grouped and depthwise convolutions; strides, dilations and asymmetric pads as ONNX.
#pragma once

#include <cstdint>
#include <vector>

#include "npukit/tensor.h"
#include "runtime/kernels/integer/output_stage.h"

namespace npukit::runtime::integer {

struct ConvolutionParameters {
  std::vector<int64_t> strides{1, 1};
  std::vector<int64_t> dilations{1, 1};
  std::vector<int64_t> pads{0, 0, 0, 0};  // ONNX order: top, left, bottom, right
  int64_t group = 1;
  int32_t input_zero_point = 0;
  std::vector<int32_t> weight_zero_points;  // empty: all 0; one, or one per output channel
  OutputStage output;
};

// input [N, C, H, W] integer, weights [M, C / group, KH, KW] integer, bias [M] int32 or null. Throws
// Error(invalid_argument) for shapes that do not fit and Error(unsupported) when an accumulator leaves int32.
Tensor convolution(const Tensor& input, const Tensor& weights, const Tensor* bias, const ConvolutionParameters& parameters);

}  // namespace npukit::runtime::integer
