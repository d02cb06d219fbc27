// Integer average pooling (NCHW), the TFLite reference AveragePool for int8 / uint8: input and output share
// one scale and zero point, so the mean of the stored values is the stored mean:
//   sum = sum of q over the window's elements inside the input; count = those elements (count_include_pad 0)
//         or the whole window (count_include_pad 1)
//   q_y = clamp((sum +- count / 2) / count, min, max)      rounded half away from zero (C division truncates)
// GlobalAveragePool is the window of the whole plane (TFLite: AVERAGE_POOL_2D with the input's size).
#pragma once

#include <cstdint>
#include <vector>

#include "npukit/tensor.h"

namespace npukit::runtime::integer {

struct AveragePoolParameters {
  std::vector<int64_t> kernel{1, 1};      // empty: the whole plane (GlobalAveragePool)
  std::vector<int64_t> strides{1, 1};
  std::vector<int64_t> pads{0, 0, 0, 0};  // top, left, bottom, right
  bool count_include_pad = false;
  int32_t minimum = -128;                 // the output grid (a fused clamp may narrow it)
  int32_t maximum = 127;
};

// The element type of the output is the input's.
Tensor average_pool(const Tensor& input, const AveragePoolParameters& parameters);

// The rounding of the mean: sum / count, half away from zero (count > 0).
int32_t rounded_mean(int64_t sum, int64_t count);

}  // namespace npukit::runtime::integer
