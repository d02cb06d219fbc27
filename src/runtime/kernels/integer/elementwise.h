// Integer Add and Mul of two quantized tensors with their own scales (numpy broadcasting), as the TFLite
// reference kernels compute them for int8 / uint8:
//   Add: both inputs shifted left by `left_shift` (20), each rescaled to 2 * max(s_a, s_b) by its own
//        multiplier, summed, and the sum rescaled to the output:  M_a = s_a / (2 max), M_b = s_b / (2 max),
//        M_out = 2 max / (2^20 s_y).
//   Mul: (q_a - z_a) * (q_b - z_b) times M = s_a * s_b / s_y.
// Then + z_y and the clamp (a fused Relu narrows it). Each multiplication is the target's variant.
#pragma once

#include <cstdint>

#include "npukit/tensor.h"
#include "runtime/kernels/integer/output_stage.h"

namespace npukit::runtime::integer {

struct AddParameters {
  int32_t a_zero_point = 0;
  int32_t b_zero_point = 0;
  int left_shift = 20;
  Requantizer a_requantizer;
  Requantizer b_requantizer;
  OutputStage output;
};

struct MulParameters {
  int32_t a_zero_point = 0;
  int32_t b_zero_point = 0;
  OutputStage output;
};

Tensor add(const Tensor& a, const Tensor& b, const AddParameters& parameters);
Tensor mul(const Tensor& a, const Tensor& b, const MulParameters& parameters);

}  // namespace npukit::runtime::integer
