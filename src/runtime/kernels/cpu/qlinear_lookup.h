// ONNX Runtime's arithmetic for com.microsoft QLinearSigmoid and QLinearMul (the readable one-element
// definitions the cpu kernels equal, for the kernels and for tests), and the 256-entry tables built from them.
//
// QLinearSigmoid is a table in ORT itself (qlinear_lookup_table.cc): for each of the 256 inputs q,
// x = s_x · (q - z_x), y = MlasComputeLogistic(x) (on x86 with AVX2: MlasComputeLogisticF32KernelFma3,
// Eigen's rational polynomial with fused multiply-adds), quantized by MlasQuantizeLinear. QLinearMul
// (MLAS qlmul.cpp, the SSE2 kernel ORT builds for every x86 CPU) multiplies the integers exactly,
// c = saturate(round_half_even(float((a - z_a) · (b - z_b)) · ratio + float(z_c))), ratio = s_a · s_b / s_c,
// a multiply then an add (that file is built without FMA).
//
// DQ [→ Relu / Clip] → Q groups (com.npukit QLinearClip) are tables of ORT's float arithmetic likewise.
//
// SiLU as exporters write it, Mul(x, Sigmoid(x)) with the sigmoid on its own grid, runs in ORT as
// QLinearSigmoid then QLinearMul: both are functions of the one input byte, so their composition is one more
// 256-entry table (com.npukit QLinearSiLU, built by passes/qdq_integer_fusion.cpp) with ORT's bytes exactly.
#pragma once

#include <array>
#include <cstdint>

#include "npukit/dtype.h"

namespace npukit::runtime::cpu::int8 {

// One element of MlasComputeLogisticF32KernelFma3.
float logistic_like_mlas(float x);

// QuantizeLinear's arithmetic as MlasQuantizeLinear does it: x / scale, half to even, + zero point, clamped.
int32_t quantize_like_mlas(float value, float scale, int32_t zero_point, DType type);

struct QLinearMulParameters {
  float ratio = 1;                // s_a · s_b / s_c
  int32_t a_zero_point = 0, b_zero_point = 0, c_zero_point = 0;
  int32_t minimum = 0, maximum = 255;
};

QLinearMulParameters qlinear_mul_parameters(float a_scale, int32_t a_zero_point, float b_scale, int32_t b_zero_point,
                                            float c_scale, int32_t c_zero_point, DType type);
int32_t qlinear_mul_one(int32_t a, int32_t b, const QLinearMulParameters& p);

// The table of a byte: entry i is the output for the input byte i (u8 i, or s8 int8_t(i)).
using ByteTable = std::array<uint8_t, 256>;

ByteTable qlinear_sigmoid_table(float x_scale, int32_t x_zero_point, float y_scale, int32_t y_zero_point, DType type);
// QLinearSigmoid (x → s on the sigmoid's grid), then QLinearMul(x, s) → y.
ByteTable qlinear_silu_table(float x_scale, int32_t x_zero_point, float sigmoid_scale, int32_t sigmoid_zero_point,
                             float y_scale, int32_t y_zero_point, DType type);

// DequantizeLinear (float(q - z_x) · s_x), clamp to [low, high] (Relu: [0, +inf); none: the whole line), then
// QuantizeLinear: what ORT computes for DQ [→ Relu / Clip] → Q groups it leaves in float. `input_type` and
// `output_type` may differ.
ByteTable requantize_table(float x_scale, int32_t x_zero_point, DType input_type, float low, float high, float y_scale,
                           int32_t y_zero_point, DType output_type);

// y[i] = table[x[i]], 64 bytes at a time where the CPU has AVX-512 VBMI.
void apply_byte_table(const uint8_t* x, uint8_t* y, int64_t count, const ByteTable& table);

}  // namespace npukit::runtime::cpu::int8
