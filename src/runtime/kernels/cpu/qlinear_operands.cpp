#include "runtime/kernels/cpu/qlinear_operands.h"

#include <cmath>

namespace npukit::runtime::cpu {

namespace {

const Tensor* constant(const ir::Value* value) {
  return value && value->initializer && !value->is_graph_input ? &*value->initializer : nullptr;
}

bool is_8bit(DType type) { return type == DType::u8 || type == DType::i8; }

std::optional<float> positive_scalar(const ir::Value* value) {
  const Tensor* tensor = constant(value);
  if (!tensor || tensor->dtype() != DType::f32 || tensor->element_count() != 1) return std::nullopt;
  const float scale = tensor->data<float>()[0];
  if (!std::isfinite(scale) || scale <= 0) return std::nullopt;
  return scale;
}

}  // namespace

std::optional<std::string> read_qlinear_operands(const ir::Node& node, int64_t channels, QLinearOperands& operands) {
  const std::string op = "cpu " + node.op_type;
  std::optional<float> input_scale = positive_scalar(node.input(1));
  std::optional<float> output_scale = positive_scalar(node.input(6));
  if (!input_scale || !output_scale) return op + " needs constant, finite, positive scalar x and y scales";
  operands.input_scale = *input_scale;
  operands.output_scale = *output_scale;
  const Tensor* input_zero_point = constant(node.input(2));
  const Tensor* output_zero_point = constant(node.input(7));
  if (!input_zero_point || input_zero_point->element_count() != 1 || !is_8bit(input_zero_point->dtype()) ||
      !output_zero_point || output_zero_point->element_count() != 1 || !is_8bit(output_zero_point->dtype())) {
    return op + " needs constant u8 / s8 scalar x and y zero points";
  }
  operands.input_type = input_zero_point->dtype();
  operands.output_type = output_zero_point->dtype();
  operands.input_zero_point = static_cast<int32_t>(input_zero_point->value_as_double(0));
  operands.output_zero_point = static_cast<int32_t>(output_zero_point->value_as_double(0));
  const ir::Value* input = node.input(0);
  if (!input || (input->type.dtype != DType::undefined && input->type.dtype != operands.input_type)) {
    return op + " needs x of its zero point's type";
  }
  operands.weights = constant(node.input(3));
  if (!operands.weights || operands.weights->dtype() != DType::i8) return op + " needs constant s8 weights";
  const Tensor* weight_scales = constant(node.input(4));
  if (!weight_scales || weight_scales->dtype() != DType::f32 ||
      (weight_scales->element_count() != 1 && weight_scales->element_count() != channels)) {
    return op + " needs constant weight scales, one or one per output channel";
  }
  operands.weight_scales.assign(weight_scales->data<float>(), weight_scales->data<float>() + weight_scales->element_count());
  for (float scale : operands.weight_scales) {
    if (!std::isfinite(scale) || scale <= 0) return op + " needs finite, positive weight scales";
  }
  const Tensor* weight_zero_points = constant(node.input(5));
  if (weight_zero_points) {
    if (weight_zero_points->dtype() != DType::i8) return op + " needs s8 weight zero points";
    for (int64_t i = 0; i < weight_zero_points->element_count(); ++i) {
      if (weight_zero_points->data<int8_t>()[i] != 0) return op + " runs symmetric weights (zero point 0) only";
    }
  } else if (node.input(5)) {
    return op + " needs constant weight zero points";
  }
  return std::nullopt;
}

std::optional<std::string> scalar_scales_reason(const ir::Node& node, const std::vector<size_t>& indices,
                                                const std::string& name) {
  for (size_t index : indices) {
    if (!positive_scalar(index < node.inputs.size() ? node.input(index) : nullptr)) {
      return name + " needs constant, finite, positive scalar scales";
    }
  }
  return std::nullopt;
}

std::optional<std::string> scalar_zero_points_reason(const ir::Node& node, const std::vector<size_t>& indices,
                                                     const std::string& name, DType& type, bool every_present) {
  for (size_t index : indices) {
    const ir::Value* value = index < node.inputs.size() ? node.input(index) : nullptr;
    if (!value) {
      if (every_present) return name + " needs every zero point";
      continue;
    }
    const Tensor* zero_point = constant(value);
    if (!zero_point || zero_point->element_count() != 1 || !is_8bit(zero_point->dtype())) {
      return name + " needs constant u8 / s8 scalar zero points";
    }
    if (type != DType::undefined && zero_point->dtype() != type) return name + " needs one 8-bit type";
    type = zero_point->dtype();
  }
  return std::nullopt;
}

std::optional<std::string> qlinear_binary_unsupported_reason(const ir::Node& node, const std::string& op_type) {
  const std::string op = "cpu " + op_type;
  if (node.inputs.size() < 7 || !node.input(0) || !node.input(3)) return op + " needs A, B and their parameters";
  if (std::optional<std::string> reason = scalar_scales_reason(node, {1, 4, 6}, op)) return reason;
  DType type = DType::undefined;
  if (std::optional<std::string> reason = scalar_zero_points_reason(node, {2, 5, 7}, op, type)) return reason;
  if (!node.input(7)) return op + " needs C's zero point (its type)";
  return std::nullopt;
}

QLinearBinaryOperands read_qlinear_binary_operands(const ir::Node& node) {
  auto zero_point = [&](size_t index) {
    const Tensor* tensor = constant(node.input(index));
    return tensor ? static_cast<int32_t>(tensor->value_as_double(0)) : 0;
  };
  QLinearBinaryOperands operands;
  operands.a_scale = constant(node.input(1))->data<float>()[0];
  operands.a_zero_point = zero_point(2);
  operands.b_scale = constant(node.input(4))->data<float>()[0];
  operands.b_zero_point = zero_point(5);
  operands.c_scale = constant(node.input(6))->data<float>()[0];
  operands.c_zero_point = zero_point(7);
  operands.type = constant(node.input(7)) ? constant(node.input(7))->dtype() : DType::u8;
  return operands;
}

}  // namespace npukit::runtime::cpu
