// Integer requantization: an int32 accumulator brought to the output's scale, in each variant targets use
// (quant_anchors.md §3.2). Plain, readable code: these are the oracle's building blocks, checked against
// hand-computed vectors in tests/fixed_point_test.cpp.
//
// A real multiplier M = s_x * s_w / s_y is encoded as  M = multiplier * 2^(shift - 31)  with multiplier in
// [2^30, 2^31) (QuantizeMultiplier). Positive shifts multiply (left), negative ones divide (right).
#pragma once

#include <cstdint>

namespace npukit::quantization {

// TFLite QuantizeMultiplier / TVM GetFixedPointMultiplierShift: frexp(M) = q * 2^shift with q in [0.5, 1),
// multiplier = round(q * 2^31) with std::round (half away from zero); a q that rounds up to 2^31 becomes 2^30
// with shift + 1. M == 0 gives {0, 0}. M must be finite and >= 0.
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int shift = 0;
};
QuantizedMultiplier quantize_multiplier(double real_multiplier);
// The same with a multiplier of `bits` bits (2..31): round(q * 2^(bits)) renormalized at 2^(bits), then
// scaled to the 31-bit position (the low 31 - bits bits are zero). bits == 31 is quantize_multiplier.
QuantizedMultiplier quantize_multiplier_bits(double real_multiplier, int bits);

// gemmlowp SaturatingRoundingDoublingHighMul (ARM VQRDMULH): the high 32 bits of 2*a*b, rounded to nearest with
// ties toward +infinity (the nudge 1 - 2^30 for negative products plus C++'s truncating division takes -1.5 to
// -1, not -2); INT32_MIN * INT32_MIN (the one overflow) saturates to INT32_MAX.
int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b);

// gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero (exponent 0..31).
int32_t rounding_divide_by_power_of_two(int32_t x, int exponent);

// TFLite MultiplyByQuantizedMultiplier, reference build: left shift (saturating through the doubling high
// multiply), SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT: two roundings.
int32_t multiply_by_quantized_multiplier_double_rounding(int32_t x, QuantizedMultiplier m);

// TFLite with TFLITE_SINGLE_ROUNDING: (x * multiplier + 2^(total_shift - 1)) >> total_shift with
// total_shift = 31 - shift: one rounding, ties toward +infinity. Saturates to int32.
int32_t multiply_by_quantized_multiplier_single_rounding(int32_t x, QuantizedMultiplier m);

// TVM QNN requantize on the same multiplier: the exact product x * multiplier * 2^(shift - 31) rounded once,
// UPWARD (ties toward +infinity) or TONEAREST (ties away from zero). Saturates to int32.
int32_t multiply_by_quantized_multiplier_upward(int32_t x, QuantizedMultiplier m);
int32_t multiply_by_quantized_multiplier_to_nearest(int32_t x, QuantizedMultiplier m);

// Power-of-two scales: x * 2^exponent; a negative exponent is a right shift rounded half away from zero
// (RoundingDivideByPOT), a positive one a saturating left shift.
int32_t shift_by_power_of_two(int32_t x, int exponent);

// ONNX Runtime MLAS (MlasRequantizeOutput): float(x) * scale in float32, rounded half to even
// (std::nearbyint in the default rounding mode; here without depending on the FP environment); the caller adds
// the zero point and clamps.
int64_t requantize_float_scale(int32_t x, float scale);

// The last step every variant shares: + zero point, then clamp to [minimum, maximum] (the grid, narrowed by a
// fused ReLU / ReLU6 clamp).
int32_t add_zero_point_and_clamp(int64_t value, int32_t zero_point, int32_t minimum, int32_t maximum);

}  // namespace npukit::quantization
