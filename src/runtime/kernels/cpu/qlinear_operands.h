// What the cpu backend's QLinearConv and QLinearMatMul kernels need from their node: every quantization
// parameter a constant, weights a constant s8 tensor with zero points 0 (symmetric, as ONNX Runtime's
// quantizer writes them), u8 or s8 activations. Anything else stays on ref.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace npukit::runtime::cpu {

struct QLinearOperands {
  float input_scale = 1;
  int32_t input_zero_point = 0;
  DType input_type = DType::u8;
  const Tensor* weights = nullptr;       // s8
  std::vector<float> weight_scales;      // one, or one per output channel / column
  float output_scale = 1;
  int32_t output_zero_point = 0;
  DType output_type = DType::u8;
};

// The inputs in ONNX QLinearConv / QLinearMatMul order (x, x_scale, x_zp, w,
// w_scale, w_zp, y_scale, y_zp). `channels`: the count of per-channel weight scales allowed besides one.
// Returns the operands, or the reason the node cannot run on the cpu backend.
std::optional<std::string> read_qlinear_operands(const ir::Node& node, int64_t channels, QLinearOperands& operands);

}  // namespace npukit::runtime::cpu
