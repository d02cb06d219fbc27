// ONNX Runtime's QLinearAdd arithmetic (qlinear_add.cpp): the readable one-element definition the vector
// kernel equals, for tests.
#pragma once

#include <cstdint>

#include "npukit/dtype.h"

namespace npukit::runtime::cpu::int8 {

struct QLinearAddParameters {
  float ratio_a = 1, ratio_b = 1, fixed = 0;  // s_a / s_c, s_b / s_c, z_c - (ratio_a · z_a + ratio_b · z_b)
  int32_t minimum = 0, maximum = 255;          // the output grid
};

QLinearAddParameters qlinear_add_parameters(float a_scale, int32_t a_zero_point, float b_scale, int32_t b_zero_point,
                                            float c_scale, int32_t c_zero_point, DType type);

// One output element from the integers a and b. `single_element`: both tensors hold one element (ORT then
// takes its scalar-operand path, rounded differently).
int32_t qlinear_add_one(int32_t a, int32_t b, const QLinearAddParameters& p, bool single_element);

}  // namespace npukit::runtime::cpu::int8
