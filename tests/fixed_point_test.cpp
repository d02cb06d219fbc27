// Rounding, quantization and requantization primitives (src/quantization/) against hand-computed vectors. Each
// expected value is worked out in the comment next to it, never by calling the code under test.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "quantization/fixed_point.h"
#include "quantization/quantize.h"

namespace npukit::quantization {
namespace {

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

TEST(Rounding, TiesOfBothSignsInEachMode) {
  // half to even: x.5 goes to the even neighbour.
  EXPECT_EQ(round_with(2.5, RoundingMode::half_to_even), 2);
  EXPECT_EQ(round_with(3.5, RoundingMode::half_to_even), 4);
  EXPECT_EQ(round_with(-2.5, RoundingMode::half_to_even), -2);
  EXPECT_EQ(round_with(-3.5, RoundingMode::half_to_even), -4);
  EXPECT_EQ(round_with(0.5, RoundingMode::half_to_even), 0);
  // half away from zero (std::round).
  EXPECT_EQ(round_with(2.5, RoundingMode::half_away_from_zero), 3);
  EXPECT_EQ(round_with(-2.5, RoundingMode::half_away_from_zero), -3);
  EXPECT_EQ(round_with(-0.5, RoundingMode::half_away_from_zero), -1);
  // half up: floor(x + 0.5), ties toward +infinity.
  EXPECT_EQ(round_with(2.5, RoundingMode::half_up), 3);
  EXPECT_EQ(round_with(-2.5, RoundingMode::half_up), -2);
  EXPECT_EQ(round_with(-0.5, RoundingMode::half_up), 0);
  // Not ties: every mode takes the nearest integer.
  for (RoundingMode mode : {RoundingMode::half_to_even, RoundingMode::half_away_from_zero, RoundingMode::half_up}) {
    EXPECT_EQ(round_with(2.4, mode), 2);
    EXPECT_EQ(round_with(-2.6, mode), -3);
    EXPECT_EQ(round_with(-2.4999999, mode), -2);
  }
}

TEST(Quantize, RoundThenClampAndClampThenRoundDifferInFloat) {
  const Grid int8{-128, 127};
  // x = 2.5 + 2^-22 (the float after 2.5), scale 1, zero point 100.
  const float x = std::nextafter(2.5f, 3.0f);
  // round then clamp: round(2.50000024) = 3 (not a tie), + 100 = 103.
  EXPECT_EQ(quantize_value(x, 1.0f, 100, int8, RoundingMode::half_to_even, ClampOrder::round_then_clamp), 103);
  // clamp then round: 2.50000024f + 100 in float32 is 102.5 (float spacing near 102 is 2^-17), a tie: even -> 102.
  EXPECT_EQ(quantize_value(x, 1.0f, 100, int8, RoundingMode::half_to_even, ClampOrder::clamp_then_round), 102);
}

TEST(Quantize, SaturatesAndMapsNanToTheZeroPoint) {
  const Grid int8{-128, 127};
  const Grid narrow{-127, 127};
  EXPECT_EQ(quantize_value(1000.0f, 1.0f, 0, int8, RoundingMode::half_to_even), 127);     // 1000 > 127
  EXPECT_EQ(quantize_value(-1000.0f, 1.0f, 0, int8, RoundingMode::half_to_even), -128);   // -1000 < -128
  EXPECT_EQ(quantize_value(-1000.0f, 1.0f, 0, narrow, RoundingMode::half_to_even), -127); // narrow grid
  EXPECT_EQ(quantize_value(1e30f, 1e-30f, 0, int8, RoundingMode::half_to_even), 127);     // x / s = inf: saturates
  EXPECT_EQ(quantize_value(std::nanf(""), 1.0f, 5, int8, RoundingMode::half_to_even), 5);
  // -1.5 / 1 + zp 3: half_to_even -2 + 3 = 1; half_away -2 + 3 = 1; half_up -1 + 3 = 2.
  EXPECT_EQ(quantize_value(-1.5f, 1.0f, 3, int8, RoundingMode::half_to_even), 1);
  EXPECT_EQ(quantize_value(-1.5f, 1.0f, 3, int8, RoundingMode::half_away_from_zero), 1);
  EXPECT_EQ(quantize_value(-1.5f, 1.0f, 3, int8, RoundingMode::half_up), 2);
}

TEST(QuantizeMultiplier, FrexpAndRoundToThirtyOneBits) {
  // 0.5 = 0.5 * 2^0: 0.5 * 2^31 = 2^30.
  EXPECT_EQ(quantize_multiplier(0.5).multiplier, 1073741824);
  EXPECT_EQ(quantize_multiplier(0.5).shift, 0);
  // 1.0 = 0.5 * 2^1.
  EXPECT_EQ(quantize_multiplier(1.0).multiplier, 1073741824);
  EXPECT_EQ(quantize_multiplier(1.0).shift, 1);
  // 0.75 * 2^31 = 1610612736.
  EXPECT_EQ(quantize_multiplier(0.75).multiplier, 1610612736);
  EXPECT_EQ(quantize_multiplier(0.75).shift, 0);
  // 3.0 = 0.75 * 2^2: a left shift.
  EXPECT_EQ(quantize_multiplier(3.0).multiplier, 1610612736);
  EXPECT_EQ(quantize_multiplier(3.0).shift, 2);
  // 0.1 = 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4 -> 1717986918.
  EXPECT_EQ(quantize_multiplier(0.1).multiplier, 1717986918);
  EXPECT_EQ(quantize_multiplier(0.1).shift, -3);
  // 0.5 + 2^-32: q * 2^31 = 2^30 + 0.5, a tie: std::round goes away from zero -> 2^30 + 1.
  EXPECT_EQ(quantize_multiplier(0.5 + std::ldexp(1.0, -32)).multiplier, 1073741825);
  EXPECT_EQ(quantize_multiplier(0.0).multiplier, 0);
}

TEST(QuantizeMultiplier, RoundingUpToTwoToThe31IsRenormalized) {
  // 1 - 2^-33 = (1 - 2^-33) * 2^0; q * 2^31 = 2^31 - 0.25 rounds to 2^31, which does not fit: 2^30 with shift 1.
  const QuantizedMultiplier m = quantize_multiplier(1.0 - std::ldexp(1.0, -33));
  EXPECT_EQ(m.multiplier, 1073741824);
  EXPECT_EQ(m.shift, 1);
}

TEST(QuantizeMultiplier, NarrowerMultipliers) {
  // 0.325 = 0.65 * 2^-1; 15 bits: 0.65 * 2^15 = 21299.2 -> 21299, placed at bit 31: 21299 * 2^16 = 1395851264.
  const QuantizedMultiplier m = quantize_multiplier_bits(0.325, 15);
  EXPECT_EQ(m.multiplier, 1395851264);
  EXPECT_EQ(m.shift, -1);
}

TEST(FixedPoint, SaturatingRoundingDoublingHighMul) {
  // The only overflow: (-2^31)(-2^31) * 2 / 2^32 = 2^31, saturated.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMin), kMax);
  // 2^30 * 2^30 * 2 / 2^32 = 2^29 exactly.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1 << 30, 1 << 30), 536870912);
  // 3 * 2^30 * 2 / 2^32 = 1.5: a tie -> 2.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);
  // -3 * 2^30 * 2 / 2^32 = -1.5: (-3*2^30 + 1 - 2^30) / 2^31 = (-2^32 + 1) / 2^31 = -1.99.. truncates to -1:
  // negative ties go toward +infinity (VQRDMULH), not away from zero.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);
  // -5 * 2^30 -> -2.5: (-6*2^30 + 1) / 2^31 = -2.99.. -> -2.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-5, 1 << 30), -2);
  // Not a tie: -7 * 2^29 * 2 / 2^32 = -1.75 -> -2: (-3.5*2^30 + 1 - 2^30) / 2^31 = -2.249.. truncates to -2.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-7, 1 << 29), -2);
  // INT32_MIN * INT32_MAX: -2^31 (2^31 - 1) * 2 / 2^32 = -(2^31 - 1) = -2147483647 exactly.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMax), -2147483647);
}

TEST(FixedPoint, RoundingDivideByPowerOfTwoRoundsHalfAwayFromZero) {
  EXPECT_EQ(rounding_divide_by_power_of_two(3, 1), 2);     // 1.5 -> 2
  EXPECT_EQ(rounding_divide_by_power_of_two(-3, 1), -2);   // -1.5 -> -2
  EXPECT_EQ(rounding_divide_by_power_of_two(6, 2), 2);     // 1.5 -> 2
  EXPECT_EQ(rounding_divide_by_power_of_two(-6, 2), -2);   // -1.5 -> -2
  EXPECT_EQ(rounding_divide_by_power_of_two(-5, 2), -1);   // -1.25 -> -1
  EXPECT_EQ(rounding_divide_by_power_of_two(5, 2), 1);     // 1.25 -> 1
  EXPECT_EQ(rounding_divide_by_power_of_two(7, 0), 7);     // no shift
  EXPECT_EQ(rounding_divide_by_power_of_two(kMin, 31), -1);  // -2^31 / 2^31 = -1 exactly
  EXPECT_EQ(rounding_divide_by_power_of_two(kMax, 31), 1);   // (2^31 - 1) / 2^31 = 0.99.. -> 1
}

// M = 0.325 = 0.65 * 2^-1: multiplier round(0.65 * 2^31) = round(1395864371.2) = 1395864371, shift -1.
constexpr QuantizedMultiplier kPointThreeTwoFive{1395864371, -1};

TEST(Requantize, DoubleRoundingDiffersFromSingleRounding) {
  // x = 4: exact 4 * 0.325 = 1.3 -> one rounding gives 1.
  //   double: SRDHM(4, m) = round(4 * 1395864371 / 2^31) = round(2.5999999998) = 3; RDBPOT(3, 1) = 1.5 -> 2.
  //   single: (4 * 1395864371 + 2^31) >> 32 = 7730941132 >> 32 = floor(1.79999) = 1.
  EXPECT_EQ(multiply_by_quantized_multiplier_double_rounding(4, kPointThreeTwoFive), 2);
  EXPECT_EQ(multiply_by_quantized_multiplier_single_rounding(4, kPointThreeTwoFive), 1);
  EXPECT_EQ(multiply_by_quantized_multiplier_upward(4, kPointThreeTwoFive), 1);
  EXPECT_EQ(multiply_by_quantized_multiplier_to_nearest(4, kPointThreeTwoFive), 1);
  // x = -4: exact -1.3.
  //   double: SRDHM: (-5583457484 + 1 - 2^30) / 2^31 = -3.0999.. -> -3; RDBPOT(-3, 1) = -1.5 -> -2.
  //   single: (-5583457484 + 2^31) >> 32 = floor(-0.79999) = -1.
  EXPECT_EQ(multiply_by_quantized_multiplier_double_rounding(-4, kPointThreeTwoFive), -2);
  EXPECT_EQ(multiply_by_quantized_multiplier_single_rounding(-4, kPointThreeTwoFive), -1);
  EXPECT_EQ(multiply_by_quantized_multiplier_to_nearest(-4, kPointThreeTwoFive), -1);
}

TEST(Requantize, TiesOfEachVariant) {
  const QuantizedMultiplier half{1073741824, 0};  // M = 0.5
  // x = 3: 1.5. Every variant -> 2 (up, away, and SRDHM's tie toward +infinity agree on positives).
  EXPECT_EQ(multiply_by_quantized_multiplier_double_rounding(3, half), 2);
  EXPECT_EQ(multiply_by_quantized_multiplier_single_rounding(3, half), 2);
  EXPECT_EQ(multiply_by_quantized_multiplier_upward(3, half), 2);
  EXPECT_EQ(multiply_by_quantized_multiplier_to_nearest(3, half), 2);
  // x = -3: -1.5. UPWARD: (-3*2^30 + 2^30) >> 31 = -2^31 >> 31 = -1. TONEAREST: away -> -2.
  // double: SRDHM(-3, 2^30) = -1 (see above), RDBPOT(-1, 0) = -1. single (TFLite): same as UPWARD, -1.
  EXPECT_EQ(multiply_by_quantized_multiplier_double_rounding(-3, half), -1);
  EXPECT_EQ(multiply_by_quantized_multiplier_single_rounding(-3, half), -1);
  EXPECT_EQ(multiply_by_quantized_multiplier_upward(-3, half), -1);
  EXPECT_EQ(multiply_by_quantized_multiplier_to_nearest(-3, half), -2);
  // x = -5: -2.5. UPWARD -2, TONEAREST -3, double: SRDHM(-5, 2^30) = -2.
  EXPECT_EQ(multiply_by_quantized_multiplier_upward(-5, half), -2);
  EXPECT_EQ(multiply_by_quantized_multiplier_to_nearest(-5, half), -3);
  EXPECT_EQ(multiply_by_quantized_multiplier_double_rounding(-5, half), -2);
  // M = 0.25 (2^30, shift -1), x = -6: -1.5. double: SRDHM(-6, 2^30) = -3 exactly; RDBPOT(-3, 1) = -2 (away).
  // single: (-6*2^30 + 2^31) >> 32 = (-2^32) >> 32 = -1.
  const QuantizedMultiplier quarter{1073741824, -1};
  EXPECT_EQ(multiply_by_quantized_multiplier_double_rounding(-6, quarter), -2);
  EXPECT_EQ(multiply_by_quantized_multiplier_single_rounding(-6, quarter), -1);
}

TEST(Requantize, LeftShifts) {
  const QuantizedMultiplier three{1610612736, 2};  // M = 3.0 = 0.75 * 2^2
  // x = 100: double: 100 << 2 = 400; SRDHM(400, 0.75 * 2^31) = 300 exactly. single: (100 * 1610612736 + 2^28) >> 29
  //   = 161329709056 / 536870912 = 300.5 -> floor 300.
  EXPECT_EQ(multiply_by_quantized_multiplier_double_rounding(100, three), 300);
  EXPECT_EQ(multiply_by_quantized_multiplier_single_rounding(100, three), 300);
  EXPECT_EQ(multiply_by_quantized_multiplier_to_nearest(-100, three), -300);
  // x = 2^30, M = 3: 3 * 2^30 > INT32_MAX. single rounding saturates to INT32_MAX. Double rounding saturates the
  // left shift (2^32 -> INT32_MAX = 2147483647; TFLite's int32 shift would overflow) and then takes 0.75 of it:
  // 2147483647 * 0.75 = 1610612735.25 -> 1610612735.
  EXPECT_EQ(multiply_by_quantized_multiplier_single_rounding(1 << 30, three), kMax);
  EXPECT_EQ(multiply_by_quantized_multiplier_double_rounding(1 << 30, three), 1610612735);
}

TEST(Requantize, PowerOfTwoShifts) {
  EXPECT_EQ(shift_by_power_of_two(5, -1), 3);     // 2.5 -> 3 (away)
  EXPECT_EQ(shift_by_power_of_two(-5, -1), -3);   // -2.5 -> -3
  EXPECT_EQ(shift_by_power_of_two(-9, -2), -2);   // -2.25 -> -2
  EXPECT_EQ(shift_by_power_of_two(7, 2), 28);     // 7 * 4
  EXPECT_EQ(shift_by_power_of_two(1 << 30, 2), kMax);  // 2^32 saturates
  EXPECT_EQ(shift_by_power_of_two(kMin, 1), kMin);     // -2^32 saturates low
}

TEST(Requantize, FloatScaleRoundsHalfToEvenLikeOnnxRuntime) {
  EXPECT_EQ(requantize_float_scale(5, 0.5f), 2);    // 2.5 -> 2
  EXPECT_EQ(requantize_float_scale(7, 0.5f), 4);    // 3.5 -> 4
  EXPECT_EQ(requantize_float_scale(-5, 0.5f), -2);  // -2.5 -> -2
  // 3 * 0.33333334f = 1.0000000298 in real numbers, which float32 rounds to 1.0 -> 1.
  EXPECT_EQ(requantize_float_scale(3, 1.0f / 3.0f), 1);
  // 2^24 + 1 is not a float: float(16777217) = 16777216, * 1.0 -> 16777216 (MLAS converts the int32 to float first).
  EXPECT_EQ(requantize_float_scale(16777217, 1.0f), 16777216);
}

TEST(Requantize, ZeroPointAndFusedClamp) {
  EXPECT_EQ(add_zero_point_and_clamp(100, 30, -128, 127), 127);  // 130 saturates
  EXPECT_EQ(add_zero_point_and_clamp(-200, 30, -128, 127), -128);
  EXPECT_EQ(add_zero_point_and_clamp(-10, 5, 5, 127), 5);        // a fused ReLU: the clamp starts at the zero point
  EXPECT_EQ(add_zero_point_and_clamp(int64_t{1} << 40, 0, -128, 127), 127);
}

}  // namespace
}  // namespace npukit::quantization
