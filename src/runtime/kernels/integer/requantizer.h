// Requantizer: brings an int32 value at one scale to another scale (multiplies it by a real multiplier
// M = s_in / s_out, or s_x * s_w / s_y for an accumulator) in the arithmetic a target uses: one of the
// variants of quantization/fixed_point.h, chosen by the target's NumericsSpec. One multiplier per tensor or
// one per output channel.
//
// The multipliers are encoded once (QuantizeMultiplier with the spec's bit width; a float32 scale for
// float_scale; an exponent for power_of_two), so a run does integer work only.
#pragma once

#include <cstdint>
#include <vector>

#include "quantization/fixed_point.h"
#include "targets/numerics_spec.h"

namespace npukit::runtime::integer {

class Requantizer {
 public:
  Requantizer() = default;
  // `real_multipliers`: one (per tensor) or one per channel, each finite and >= 0. `multiplier_bits`: the
  // fixed-point multiplier's width (2..31; 0 means 31). Throws Error(invalid_argument) for a multiplier the
  // variant cannot express (power_of_two: a multiplier that is not 2^k).
  Requantizer(const std::vector<double>& real_multipliers, targets::Requantization variant, int multiplier_bits);

  // value * M[channel] in the variant's arithmetic, saturated to int32 (channel is taken modulo the count,
  // so a per-tensor requantizer ignores it).
  int32_t apply(int32_t value, size_t channel = 0) const;

  size_t channels() const { return real_multipliers_.size(); }
  targets::Requantization variant() const { return variant_; }
  const std::vector<double>& real_multipliers() const { return real_multipliers_; }
  // The encoded form of channel `channel`'s multiplier, for code that computes the same arithmetic another
  // way (sim/vector_output_stage.h): fixed-point variants, float_scale, power_of_two respectively.
  quantization::QuantizedMultiplier fixed_point(size_t channel) const { return fixed_point_[channel % fixed_point_.size()]; }
  float float_scale(size_t channel) const { return float_scales_[channel % float_scales_.size()]; }
  int exponent(size_t channel) const { return exponents_[channel % exponents_.size()]; }

 private:
  targets::Requantization variant_ = targets::Requantization::fixed_point_double_rounding;
  std::vector<double> real_multipliers_;
  std::vector<quantization::QuantizedMultiplier> fixed_point_;  // the fixed-point variants
  std::vector<float> float_scales_;                             // float_scale
  std::vector<int> exponents_;                                  // power_of_two: M = 2^exponent
};

}  // namespace npukit::runtime::integer
