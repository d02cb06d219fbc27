// Integer-to-integer rescaling (TFLite QUANTIZE from int8 to int8, the requantization a Concat of inputs with
// other scales or a shared-scale op whose output has its own scale needs):
//   q_y = clamp(requantize(q_x - z_x, M) + z_y, min, max)      M = s_x / s_y
// and quantizing a float tensor onto a grid with the target's rounding (its QUANTIZE of a float input).
#pragma once

#include <cstdint>

#include "ir/quant_params.h"
#include "npukit/tensor.h"
#include "runtime/kernels/integer/output_stage.h"

namespace npukit::runtime::integer {

struct RequantizeParameters {
  int32_t input_zero_point = 0;
  OutputStage output;
};

Tensor requantize(const Tensor& input, const RequantizeParameters& parameters);

struct QuantizeParameters {
  float scale = 1;
  int32_t zero_point = 0;
  DType dtype = DType::i8;
  int32_t minimum = -128;
  int32_t maximum = 127;
  ir::RoundingMode rounding = ir::RoundingMode::half_to_even;
  ir::ClampOrder clamp_order = ir::ClampOrder::round_then_clamp;
};

// A float32 tensor onto the grid: x / scale in float32, rounded by the target's rule, + zero point, clamped.
Tensor quantize(const Tensor& real, const QuantizeParameters& parameters);

}  // namespace npukit::runtime::integer
