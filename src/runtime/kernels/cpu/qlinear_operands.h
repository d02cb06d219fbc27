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

// The checks every QLinear kernel's "unsupported reason" makes of its parameters, each naming the kernel (`name`,
// such as "cpu QLinearSoftmax") in the reason it returns. The inputs at `indices` must be constant, finite, positive
// float scalars (scales); constant scalar u8 / s8 zero points of one type, which `type` takes (it may come in set
// from X's type; absent inputs are skipped unless `every_present`).
std::optional<std::string> scalar_scales_reason(const ir::Node& node, const std::vector<size_t>& indices,
                                                const std::string& name);
std::optional<std::string> scalar_zero_points_reason(const ir::Node& node, const std::vector<size_t>& indices,
                                                     const std::string& name, DType& type, bool every_present = false);

// Why an elementwise QLinear node with ONNX Runtime's contrib layout (A, A_scale, A_zp, B, B_scale, B_zp, C_scale,
// C_zp: QLinearAdd, QLinearMul) cannot run on the cpu backend, or nothing: its scales constant, finite, positive
// scalars and its zero points constant scalars of one 8-bit type. `op_type` names the node in the reason.
std::optional<std::string> qlinear_binary_unsupported_reason(const ir::Node& node, const std::string& op_type);

// The scales, zero points (absent: 0) and 8-bit type of a node qlinear_binary_unsupported_reason accepted.
struct QLinearBinaryOperands {
  float a_scale = 1;
  int32_t a_zero_point = 0;
  float b_scale = 1;
  int32_t b_zero_point = 0;
  float c_scale = 1;
  int32_t c_zero_point = 0;
  DType type = DType::u8;
};
QLinearBinaryOperands read_qlinear_binary_operands(const ir::Node& node);

}  // namespace npukit::runtime::cpu
