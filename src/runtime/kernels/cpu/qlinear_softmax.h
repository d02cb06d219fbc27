// ONNX Runtime's arithmetic for com.microsoft QLinearSoftmax (contrib_ops/cpu/quantization/qlinear_softmax.cc),
// the operator its QDQ transformer makes of DQ → Softmax → Q (UnaryReplaceWithQLinear). It is not the float
// softmax quantized: ORT never dequantizes.
//   - a 256-entry float table of exp, built once from s_x and the reduced length D: bit_shift =
//     max(0, logf(FLT_MAX / D) - 5) / s_x (so that D entries sum below FLT_MAX; the logarithm in float), entry i =
//     float(exp((i - 255 + bit_shift) · s_x)) in double;
//   - per row of D elements along the axis: m = the largest byte, v_k = table[x_k - m + 255], sum = v_0 + v_1 +
//     … in float, in axis order;
//   - y_k = nearbyint(v_k · floor(1 / s_y) / sum) + z_y in float, then u8: saturated above 255 only; s8: wrapped to
//     8 bits (ORT's s8 kernel compares with 255 too), with x86's conversions of out-of-range floats.
// The output scale enters only as floor(1 / s_y): for s_y = 0.00392145 (about 1/255.01) that is 255, not 255.01,
// which is why a float softmax quantized to the same grid differs from ORT in the last bit (YOLOv8n's DFL).
#pragma once

#include <array>
#include <cstdint>

#include "npukit/dtype.h"

namespace npukit::runtime::cpu::int8 {

// Entry i: exp((i - 255 + bit_shift) · s_x) as ORT's QlinearBuildLookupTableUint32 computes it.
using SoftmaxExponentTable = std::array<float, 256>;
SoftmaxExponentTable qlinear_softmax_exponent_table(float x_scale, int64_t reduced_length);

// `width` adjacent rows at once (an inner axis: row j starts at x + j), each exactly as qlinear_softmax_row; blocks
// of softmax_column_block columns keep the reads contiguous.
constexpr int64_t softmax_column_block = 256;
void qlinear_softmax_columns(const uint8_t* x, uint8_t* y, int64_t count, int64_t stride, int64_t width,
                             const SoftmaxExponentTable& table, float y_scale, int32_t y_zero_point, DType type);

// One row: `count` integers of `type` (u8 or s8 bytes) `stride` bytes apart, written to y with the same stride.
void qlinear_softmax_row(const uint8_t* x, uint8_t* y, int64_t count, int64_t stride, const SoftmaxExponentTable& table,
                         float y_scale, int32_t y_zero_point, DType type);

}  // namespace npukit::runtime::cpu::int8
