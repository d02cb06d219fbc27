#include "quantization/fixed_point.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "npukit/error.h"
#include "quantization/quantize.h"

namespace npukit::quantization {

namespace {

constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

int32_t saturate_to_int32(int64_t value) { return static_cast<int32_t>(std::clamp(value, kInt32Min, kInt32Max)); }

// floor(value / 2^shift) for shift in [0, 62], with an arithmetic shift (defined for negatives since C++20).
int64_t floor_shift(int64_t value, int shift) { return value >> shift; }

// The exact product x * multiplier as a 128-bit-free computation: |x * multiplier| < 2^62, so int64 holds it.
int64_t product(int32_t x, int32_t multiplier) { return static_cast<int64_t>(x) * static_cast<int64_t>(multiplier); }

}  // namespace

QuantizedMultiplier quantize_multiplier(double real_multiplier) { return quantize_multiplier_bits(real_multiplier, 31); }

QuantizedMultiplier quantize_multiplier_bits(double real_multiplier, int bits) {
  if (!std::isfinite(real_multiplier) || real_multiplier < 0) {
    throw Error(ErrorKind::invalid_argument, "a requantization multiplier must be finite and >= 0, got " +
                                                 std::to_string(real_multiplier));
  }
  if (bits < 2 || bits > 31) throw Error(ErrorKind::invalid_argument, "multiplier bits must be 2..31");
  if (real_multiplier == 0) return {};
  int exponent = 0;
  const double fraction = std::frexp(real_multiplier, &exponent);  // real = fraction * 2^exponent, fraction in [0.5, 1)
  int64_t fixed = static_cast<int64_t>(std::round(fraction * static_cast<double>(int64_t{1} << bits)));
  if (fixed == (int64_t{1} << bits)) {  // rounded up to 1.0: renormalize
    fixed /= 2;
    ++exponent;
  }
  // TFLite refuses shifts below -31 by flushing the multiplier to zero: the product would shift out entirely.
  if (exponent < -31) return {};
  if (exponent > 30) throw Error(ErrorKind::invalid_argument, "a requantization multiplier >= 2^30 cannot be encoded");
  return {static_cast<int32_t>(fixed << (31 - bits)), exponent};
}

int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == std::numeric_limits<int32_t>::min() && b == std::numeric_limits<int32_t>::min()) {
    return std::numeric_limits<int32_t>::max();
  }
  const int64_t ab = product(a, b);
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  // C++ division truncates toward zero: with the nudge this rounds 2*a*b / 2^32 half away from zero.
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

int32_t rounding_divide_by_power_of_two(int32_t x, int exponent) {
  if (exponent < 0 || exponent > 31) throw Error(ErrorKind::invalid_argument, "RoundingDivideByPOT exponent must be 0..31");
  const int64_t mask = (int64_t{1} << exponent) - 1;
  const int64_t remainder = static_cast<int64_t>(x) & mask;
  const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return static_cast<int32_t>(floor_shift(x, exponent) + (remainder > threshold ? 1 : 0));
}

int32_t multiply_by_quantized_multiplier_double_rounding(int32_t x, QuantizedMultiplier m) {
  const int left = std::max(m.shift, 0);
  const int right = std::max(-m.shift, 0);
  // TFLite multiplies by 1 << left in int32 (wrapping on overflow, undefined in C++); saturating here keeps
  // the oracle defined, and agrees wherever TFLite's own result is meaningful.
  const int32_t shifted = saturate_to_int32(static_cast<int64_t>(x) * (int64_t{1} << left));
  return rounding_divide_by_power_of_two(saturating_rounding_doubling_high_mul(shifted, m.multiplier), right);
}

namespace {

// x * multiplier * 2^(shift - 31) exactly, rounded once by `round_tie` on the bits shifted out.
enum class Tie { toward_positive_infinity, away_from_zero };

int32_t single_rounding(int32_t x, QuantizedMultiplier m, Tie tie) {
  const int total_shift = 31 - m.shift;  // shift <= 30, so total_shift >= 1
  const int64_t exact = product(x, m.multiplier);
  if (total_shift > 62) return 0;
  if (tie == Tie::toward_positive_infinity) {
    const int64_t rounded = floor_shift(exact + (int64_t{1} << (total_shift - 1)), total_shift);
    return saturate_to_int32(rounded);
  }
  const int64_t magnitude = exact < 0 ? -exact : exact;
  const int64_t rounded = floor_shift(magnitude + (int64_t{1} << (total_shift - 1)), total_shift);
  return saturate_to_int32(exact < 0 ? -rounded : rounded);
}

}  // namespace

int32_t multiply_by_quantized_multiplier_single_rounding(int32_t x, QuantizedMultiplier m) {
  return single_rounding(x, m, Tie::toward_positive_infinity);
}

int32_t multiply_by_quantized_multiplier_upward(int32_t x, QuantizedMultiplier m) {
  return single_rounding(x, m, Tie::toward_positive_infinity);
}

int32_t multiply_by_quantized_multiplier_to_nearest(int32_t x, QuantizedMultiplier m) {
  return single_rounding(x, m, Tie::away_from_zero);
}

int32_t shift_by_power_of_two(int32_t x, int exponent) {
  if (exponent >= 0) {
    if (exponent > 31) throw Error(ErrorKind::invalid_argument, "a left shift must be 0..31");
    return saturate_to_int32(static_cast<int64_t>(x) * (int64_t{1} << exponent));
  }
  return rounding_divide_by_power_of_two(x, -exponent);
}

int64_t requantize_float_scale(int32_t x, float scale) {
  const float scaled = static_cast<float>(x) * scale;
  return static_cast<int64_t>(round_with(scaled, RoundingMode::half_to_even));
}

int32_t add_zero_point_and_clamp(int64_t value, int32_t zero_point, int32_t minimum, int32_t maximum) {
  return static_cast<int32_t>(std::clamp<int64_t>(value + zero_point, minimum, maximum));
}

}  // namespace npukit::quantization
