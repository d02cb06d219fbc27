// The last step every requantizing integer kernel shares: the int32 accumulator times the requantization
// multiplier (the target's variant), plus the output's zero point, clamped to the output grid narrowed by a
// fused activation (Relu: [zp, max]; Relu6 / Clip: their bounds on the output grid).
#pragma once

#include <cstdint>

#include "npukit/dtype.h"
#include "quantization/fixed_point.h"
#include "runtime/kernels/integer/requantizer.h"

namespace npukit::runtime::integer {

struct OutputStage {
  Requantizer requantizer;  // one multiplier, or one per output channel
  int32_t zero_point = 0;
  int32_t minimum = -128;
  int32_t maximum = 127;
  DType dtype = DType::i8;

  int32_t finish(int32_t accumulator, size_t channel) const {
    return quantization::add_zero_point_and_clamp(requantizer.apply(accumulator, channel), zero_point, minimum, maximum);
  }
};

}  // namespace npukit::runtime::integer
