#include "runtime/kernels/integer/requantizer.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

#include "npukit/error.h"

namespace npukit::runtime::integer {

using targets::Requantization;

Requantizer::Requantizer(const std::vector<double>& real_multipliers, Requantization variant, int multiplier_bits)
    : variant_(variant), real_multipliers_(real_multipliers) {
  if (real_multipliers.empty()) throw Error(ErrorKind::invalid_argument, "a requantizer needs at least one multiplier");
  const int bits = multiplier_bits == 0 ? 31 : multiplier_bits;
  for (double multiplier : real_multipliers) {
    if (!std::isfinite(multiplier) || multiplier < 0) {
      throw Error(ErrorKind::invalid_argument,
                  "a requantization multiplier must be finite and >= 0, got " + std::to_string(multiplier));
    }
    switch (variant) {
      case Requantization::float_scale:
        float_scales_.push_back(static_cast<float>(multiplier));
        break;
      case Requantization::power_of_two: {
        int exponent = 0;
        // frexp gives multiplier = 0.5 * 2^exponent exactly when the multiplier is a power of two.
        if (multiplier == 0 || std::frexp(multiplier, &exponent) != 0.5) {
          throw Error(ErrorKind::invalid_argument,
                      "the target requantizes by powers of two only, but a scale ratio is " + std::to_string(multiplier) +
                          " (quantize the model with power-of-two scales for this target)");
        }
        exponents_.push_back(exponent - 1);
        break;
      }
      default:
        fixed_point_.push_back(quantization::quantize_multiplier_bits(multiplier, bits));
        break;
    }
  }
}

int32_t Requantizer::apply(int32_t value, size_t channel) const {
  const size_t index = channel % real_multipliers_.size();
  switch (variant_) {
    case Requantization::float_scale: {
      // ONNX Runtime's float requantization yields an int64 before the zero point; the caller clamps to the
      // grid afterwards, so saturating to int32 here changes nothing it can see.
      const int64_t result = quantization::requantize_float_scale(value, float_scales_[index]);
      return static_cast<int32_t>(std::clamp<int64_t>(result, INT32_MIN, INT32_MAX));
    }
    case Requantization::power_of_two:
      return quantization::shift_by_power_of_two(value, exponents_[index]);
    case Requantization::fixed_point_double_rounding:
      return quantization::multiply_by_quantized_multiplier_double_rounding(value, fixed_point_[index]);
    case Requantization::fixed_point_single_rounding:
      return quantization::multiply_by_quantized_multiplier_single_rounding(value, fixed_point_[index]);
    case Requantization::fixed_point_upward:
      return quantization::multiply_by_quantized_multiplier_upward(value, fixed_point_[index]);
    case Requantization::fixed_point_to_nearest:
      return quantization::multiply_by_quantized_multiplier_to_nearest(value, fixed_point_[index]);
  }
  throw Error(ErrorKind::internal, "unknown requantization variant");
}

}  // namespace npukit::runtime::integer
