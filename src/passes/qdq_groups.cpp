#include "passes/qdq_groups.h"

#include <cmath>
#include <cstring>

#include "ir/fused_activation.h"
#include "ir/microsoft_domain.h"
#include "passes/graph_editing.h"

namespace npukit::passes::qdq_groups {

namespace {

bool is_8bit(DType type) { return type == DType::u8 || type == DType::i8; }
int64_t grid_minimum(DType type) { return type == DType::u8 ? 0 : -128; }
int64_t grid_maximum(DType type) { return type == DType::u8 ? 255 : 127; }

// An intermediate value read by one node only, not part of the model's interface.
bool is_private(const ir::Value* value, const std::set<std::string>& protected_names) {
  return value && !value->is_graph_output && value->consumers.size() == 1 && !protected_names.count(value->name);
}

std::optional<float> constant_positive_scalar(const ir::Value* value) {
  const Tensor* tensor = constant_of(value);
  if (!tensor || tensor->dtype() != DType::f32 || tensor->element_count() != 1) return std::nullopt;
  const float scale = tensor->data<float>()[0];
  if (!std::isfinite(scale) || scale <= 0) return std::nullopt;
  return scale;
}

// The zero point as a number (0 when absent), or nullopt when it is not one constant scalar.
std::optional<int64_t> scalar_zero_point(const QuantizedSide& side) {
  if (!side.zero_point) return 0;
  const Tensor* tensor = constant_of(side.zero_point);
  if (!tensor || tensor->element_count() != 1 || tensor->dtype() != side.type) return std::nullopt;
  return static_cast<int64_t>(tensor->value_as_double(0));
}

// x = DequantizeLinear(q: u8/s8, constant scalar scale and zero point).
std::optional<QuantizedSide> per_tensor_dequantize(ir::Value* value) {
  ir::Node* node = value ? value->producer : nullptr;
  if (!is_standard(node, "DequantizeLinear") || !node->input(0)) return std::nullopt;
  QuantizedSide side{node, node->input(0), node->input(1), node->input(2), node->input(0)->type.dtype};
  if (!is_8bit(side.type) || !constant_positive_scalar(side.scale) || !scalar_zero_point(side)) return std::nullopt;
  return side;
}

// w = DequantizeLinear(constant s8, scale per tensor or per `channel_axis` (of `channels`), zero point 0).
std::optional<QuantizedSide> symmetric_weight_dequantize(ir::Value* value, int64_t channel_axis, int64_t channels) {
  ir::Node* node = value ? value->producer : nullptr;
  if (!is_standard(node, "DequantizeLinear")) return std::nullopt;
  QuantizedSide side{node, node->input(0), node->input(1), node->input(2), DType::i8};
  const Tensor* weights = constant_of(side.integer);
  const Tensor* scales = constant_of(side.scale);
  if (!weights || weights->dtype() != DType::i8 || !scales || scales->dtype() != DType::f32) return std::nullopt;
  if (scales->element_count() != 1) {
    int64_t axis = node->get_int("axis", 1);
    if (axis < 0) axis += weights->rank();
    if (scales->rank() != 1 || axis != channel_axis || scales->element_count() != channels) return std::nullopt;
  }
  for (float scale : scales->values<float>()) {
    if (!std::isfinite(scale) || scale <= 0) return std::nullopt;
  }
  if (side.zero_point) {
    const Tensor* zero_points = constant_of(side.zero_point);
    if (!zero_points || zero_points->dtype() != DType::i8) return std::nullopt;
    for (int8_t zero_point : zero_points->values<int8_t>()) {
      if (zero_point != 0) return std::nullopt;
    }
  }
  return side;
}

// y = QuantizeLinear(x, constant scalar scale, constant scalar u8/s8 zero point).
std::optional<QuantizedSide> per_tensor_quantize(ir::Node* node) {
  if (!is_standard(node, "QuantizeLinear") || !node->output(0)) return std::nullopt;
  QuantizedSide side{node, node->output(0), node->input(1), node->input(2), DType::u8};
  if (side.zero_point) {
    side.type = side.zero_point->type.dtype;
  } else if (node->has_attribute("output_dtype")) {
    return std::nullopt;  // opset 21's type without a zero point: rare, left as it is
  }
  if (!is_8bit(side.type) || !constant_positive_scalar(side.scale) || !scalar_zero_point(side)) return std::nullopt;
  return side;
}

// QuantizeLinear's own arithmetic (float division, half to even, + zero point) for one real value.
int64_t quantize_like_onnx(float value, float scale, int64_t zero_point) {
  const float divided = value / scale;
  if (!std::isfinite(divided)) return divided > 0 ? INT64_MAX / 2 : -(INT64_MAX / 2);
  return static_cast<int64_t>(std::nearbyint(divided)) + zero_point;
}

std::optional<float> clip_bound(const ir::Node& clip, int64_t opset, size_t input, const char* attribute, float fallback) {
  if (opset < 11) return static_cast<float>(clip.get_float(attribute, fallback));
  const ir::Value* value = clip.input(input);
  if (!value) return fallback;
  const Tensor* tensor = constant_of(value);
  if (!tensor || tensor->element_count() != 1) return std::nullopt;
  return static_cast<float>(tensor->value_as_double(0));
}

// True when an activation `node` followed by `quantize` changes nothing Q's clamp would not.
bool activation_is_absorbed(const ir::Node& node, int64_t opset, const QuantizedSide& quantize) {
  const float scale = constant_of(quantize.scale)->data<float>()[0];
  const int64_t zero_point = *scalar_zero_point(quantize);
  float low = -FLT_MAX, high = FLT_MAX;
  if (node.op_type == "Relu") {
    low = 0;
  } else {
    std::optional<float> min = clip_bound(node, opset, 1, "min", -FLT_MAX);
    std::optional<float> max = clip_bound(node, opset, 2, "max", FLT_MAX);
    if (!min || !max) return false;
    low = *min;
    high = *max;
  }
  // Quantization is monotone: clipping below `low` is invisible when `low` already lands on the bottom of the
  // grid, and likewise for `high`.
  return quantize_like_onnx(low, scale, zero_point) <= grid_minimum(quantize.type) &&
         quantize_like_onnx(high, scale, zero_point) >= grid_maximum(quantize.type);
}

// Two constant scalars of one value (float bits, or integers), or both absent.
bool same_constant(const ir::Value* a, const ir::Value* b) {
  if (a == b) return true;
  const Tensor* first = constant_of(a);
  const Tensor* second = constant_of(b);
  if (!first || !second || first->dtype() != second->dtype() || first->element_count() != 1 ||
      second->element_count() != 1) {
    return false;
  }
  return std::memcmp(first->raw_data(), second->raw_data(), first->byte_size()) == 0;
}

}  // namespace

bool is_standard(const ir::Node* node, const char* op_type) {
  return node && node->domain.empty() && node->op_type == op_type;
}

ir::Value* zero_point_constant(ir::Graph& graph, const std::string& base, DType type) {
  Tensor zero(type, Shape{});
  std::memset(zero.raw_data(), 0, zero.byte_size());
  return graph.add_initializer(unused_value_name(graph, base), std::move(zero));
}

std::optional<Group> match_group(const ir::Model& model, ir::Node* op, const std::set<std::string>& protected_names) {
  const bool convolution = op->op_type == "Conv";
  Group group;
  group.op = op;
  std::optional<QuantizedSide> input = per_tensor_dequantize(op->input(0));
  if (!input) return std::nullopt;
  group.input = *input;
  const Tensor* weights = op->input(1) && op->input(1)->producer ? constant_of(op->input(1)->producer->input(0)) : nullptr;
  if (!weights || weights->rank() != (convolution ? 4 : 2)) return std::nullopt;
  const int64_t channel_axis = convolution ? 0 : 1;
  std::optional<QuantizedSide> weight_side =
      symmetric_weight_dequantize(op->input(1), channel_axis, weights->dim(static_cast<size_t>(channel_axis)));
  if (!weight_side) return std::nullopt;
  group.weights = *weight_side;
  if (convolution && op->input(2)) {
    ir::Node* bias_dequantize = op->input(2)->producer;
    if (!is_standard(bias_dequantize, "DequantizeLinear")) return std::nullopt;
    const Tensor* bias = constant_of(bias_dequantize->input(0));
    if (!bias || bias->dtype() != DType::i32 || bias->element_count() != weights->dim(0)) return std::nullopt;
    group.bias = bias_dequantize->input(0);
  }
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  ir::Node* next = result->consumers[0];
  ir::Node* activation = nullptr;
  if (convolution && (is_standard(next, "Relu") || is_standard(next, "Clip")) && next->input(0) == result) {
    activation = next;
    if (!is_private(next->output(0), protected_names)) return std::nullopt;
    next = next->output(0)->consumers[0];
  }
  std::optional<QuantizedSide> output = per_tensor_quantize(next);
  if (!output || next->input(0) != (activation ? activation->output(0) : result)) return std::nullopt;
  if (activation && !activation_is_absorbed(*activation, model.opset(""), *output)) return std::nullopt;
  // ORT's QLinearConv / QLinearMatMul kernels take and give one 8-bit type.
  if (output->type != group.input.type) return std::nullopt;
  group.output = *output;
  if (activation) group.swallowed.push_back(activation);
  group.swallowed.push_back(next);
  return group;
}

std::optional<GemmGroup> match_gemm_group(const ir::Model& model, ir::Node* op,
                                          const std::set<std::string>& protected_names) {
  if (op->get_int("transA", 0) != 0 || op->get_int("transB", 0) != 1 || op->get_float("alpha", 1.0) != 1.0 ||
      op->get_float("beta", 1.0) != 1.0 || op->inputs.size() < 2) {
    return std::nullopt;
  }
  GemmGroup group;
  group.op = op;
  std::optional<QuantizedSide> input = per_tensor_dequantize(op->input(0));
  if (!input || !input->integer->type.has_static_shape() || input->integer->type.static_shape().size() != 2) {
    return std::nullopt;
  }
  group.input = *input;
  const Tensor* weights = op->input(1) && op->input(1)->producer ? constant_of(op->input(1)->producer->input(0)) : nullptr;
  if (!weights || weights->rank() != 2) return std::nullopt;
  std::optional<QuantizedSide> weight_side = symmetric_weight_dequantize(op->input(1), 0, weights->dim(0));
  if (!weight_side) return std::nullopt;
  group.weights = *weight_side;
  if (op->input(2)) {
    ir::Node* bias_dequantize = op->input(2)->producer;
    if (!is_standard(bias_dequantize, "DequantizeLinear")) return std::nullopt;
    const Tensor* bias = constant_of(bias_dequantize->input(0));
    if (!bias || bias->dtype() != DType::i32 || bias->rank() != 1 || bias->element_count() != weights->dim(0)) {
      return std::nullopt;
    }
    group.bias = bias_dequantize->input(0);
  }
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  ir::Node* next = result->consumers[0];
  // A Relu / Clip that Q's clamp makes a no-op (ORT's ReluQuantFusion removes it before the QGemm rewrite).
  if ((is_standard(next, "Relu") || is_standard(next, "Clip")) && next->input(0) == result) {
    group.activation = next;
    if (!is_private(next->output(0), protected_names)) return std::nullopt;
    next = next->output(0)->consumers[0];
  }
  std::optional<QuantizedSide> output = per_tensor_quantize(next);
  if (!output || next->input(0) != (group.activation ? group.activation->output(0) : result) ||
      output->type != group.input.type) {
    return std::nullopt;
  }
  if (group.activation && !activation_is_absorbed(*group.activation, model.opset(""), *output)) return std::nullopt;
  group.output = *output;
  return group;
}

std::optional<BinaryGroup> match_binary_group(const ir::Model& model, ir::Node* op,
                                              const std::set<std::string>& protected_names) {
  if (op->inputs.size() != 2) return std::nullopt;
  std::optional<QuantizedSide> first = per_tensor_dequantize(op->input(0));
  std::optional<QuantizedSide> second = per_tensor_dequantize(op->input(1));
  if (!first || !second || first->type != second->type) return std::nullopt;
  const ir::TensorType& first_type = first->integer->type;
  const ir::TensorType& second_type = second->integer->type;
  if (!first_type.has_static_shape() || !second_type.has_static_shape() ||
      first_type.static_shape() != second_type.static_shape()) {
    return std::nullopt;
  }
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  ir::Node* next = result->consumers[0];
  ir::Node* activation = nullptr;
  if ((is_standard(next, "Relu") || is_standard(next, "Clip")) && next->input(0) == result) {
    activation = next;
    if (!is_private(next->output(0), protected_names)) return std::nullopt;
    next = next->output(0)->consumers[0];
  }
  std::optional<QuantizedSide> output = per_tensor_quantize(next);
  if (!output || next->input(0) != (activation ? activation->output(0) : result) || output->type != first->type) {
    return std::nullopt;
  }
  if (activation && !activation_is_absorbed(*activation, model.opset(""), *output)) return std::nullopt;
  return BinaryGroup{op, *first, *second, *output, activation};
}

std::optional<UnaryGroup> match_global_average_pool(ir::Node* op, const std::set<std::string>& protected_names) {
  std::optional<QuantizedSide> input = per_tensor_dequantize(op->input(0));
  if (!input || !input->integer->type.has_static_shape()) return std::nullopt;
  const Shape shape = input->integer->type.static_shape();
  if (shape.size() != 4) return std::nullopt;
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  std::optional<QuantizedSide> output = per_tensor_quantize(result->consumers[0]);
  if (!output || output->type != input->type) return std::nullopt;
  const int64_t pixels = shape[2] * shape[3];
  if (pixels <= 0 || pixels >= (int64_t{1} << 24)) return std::nullopt;
  const float input_scale = constant_of(input->scale)->data<float>()[0];
  const float output_scale = constant_of(output->scale)->data<float>()[0];
  const float scale = input_scale / (output_scale * static_cast<float>(pixels));
  if (!(scale >= 0x1.0p-32f && scale < 256.0f)) return std::nullopt;
  return UnaryGroup{op, *input, *output};
}

std::optional<UnaryGroup> match_sigmoid(ir::Node* op, const std::set<std::string>& protected_names) {
  std::optional<QuantizedSide> input = per_tensor_dequantize(op->input(0));
  if (!input) return std::nullopt;
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  std::optional<QuantizedSide> output = per_tensor_quantize(result->consumers[0]);
  if (!output || output->node->input(0) != result || output->type != input->type) return std::nullopt;
  return UnaryGroup{op, *input, *output};
}

std::optional<SoftmaxGroup> match_softmax(ir::Node* op, const std::set<std::string>& protected_names) {
  ir::Value* source = op->input(0);
  ir::Node* transpose = nullptr;
  if (source && is_standard(source->producer, "Transpose")) {
    transpose = source->producer;
    if (!is_private(source, protected_names) || !source->type.has_static_shape()) return std::nullopt;
    source = transpose->input(0);  // the DQ may have other readers: it stays for them (ORT duplicates it)
  }
  std::optional<QuantizedSide> input = per_tensor_dequantize(source);
  if (!input || constant_of(input->integer) || input->type != DType::u8) return std::nullopt;
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  std::optional<QuantizedSide> output = per_tensor_quantize(result->consumers[0]);
  if (!output || output->node->input(0) != result || output->type != input->type) return std::nullopt;
  return SoftmaxGroup{op, transpose, *input, *output};
}

bool is_silu_pair(const ir::Node& sigmoid, const ir::Node& mul, size_t other, const std::set<std::string>& protected_names) {
  if (sigmoid.op_type != "QLinearSigmoid" || sigmoid.domain != ir::microsoft_domain) return false;
  if (!is_private(sigmoid.output(0), protected_names)) return false;
  return sigmoid.input(0) == mul.input(other) && same_constant(sigmoid.input(1), mul.input(other + 1)) &&
         same_constant(sigmoid.input(2), mul.input(other + 2));
}

std::optional<RequantizeGroup> match_requantize(const ir::Model& model, ir::Node* quantize,
                                                const std::set<std::string>& protected_names) {
  std::optional<QuantizedSide> output = per_tensor_quantize(quantize);
  if (!output || !quantize->input(0)) return std::nullopt;
  RequantizeGroup group;
  ir::Value* value = quantize->input(0);
  ir::Node* producer = value->producer;
  if (is_standard(producer, "Relu") || is_standard(producer, "Clip")) {
    if (!is_private(value, protected_names)) return std::nullopt;
    group.activation = producer;
    if (producer->op_type == "Relu") {
      group.low = 0;
    } else {
      const int64_t opset = model.opset("");
      std::optional<float> min = clip_bound(*producer, opset, 1, "min", -FLT_MAX);
      std::optional<float> max = clip_bound(*producer, opset, 2, "max", FLT_MAX);
      if (!min || !max || std::isnan(*min) || std::isnan(*max)) return std::nullopt;
      group.low = *min;
      group.high = *max;
    }
    value = producer->input(0);
  } else {
    // A bare Q → DQ → Q → DQ is not computed as written: ORT's DoubleQDQPairsRemover drops the middle pair and
    // merges the outer parameters. Left as it is.
    return std::nullopt;
  }
  std::optional<QuantizedSide> input = per_tensor_dequantize(value);
  if (!input || constant_of(input->integer) || !is_private(value, protected_names)) return std::nullopt;
  group.input = *input;
  group.output = *output;
  return group;
}

bool same_grid(const QuantizedSide& a, const QuantizedSide& b) {
  return a.type == b.type && same_constant(a.scale, b.scale) && scalar_zero_point(a) == scalar_zero_point(b);
}

bool is_shape_only(const ir::Node* node) {
  return is_standard(node, "Reshape") || is_standard(node, "Transpose") || is_standard(node, "Flatten") ||
         is_standard(node, "Squeeze") || is_standard(node, "Unsqueeze");
}

std::optional<MovementGroup> match_same_grid(ir::Node* op, const std::set<std::string>& protected_names) {
  if (op->outputs.size() > 1 && op->output(1)) return std::nullopt;  // indices are not bytes
  std::optional<QuantizedSide> input = per_tensor_dequantize(op->input(0));
  if (!input || constant_of(input->integer)) return std::nullopt;
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  std::optional<QuantizedSide> output = per_tensor_quantize(result->consumers[0]);
  if (!output || output->node->input(0) != result || !same_grid(*input, *output)) return std::nullopt;
  return MovementGroup{op, *input, *output};
}

std::optional<SplitGroup> match_split(ir::Node* op, const std::set<std::string>& protected_names) {
  std::optional<QuantizedSide> input = per_tensor_dequantize(op->input(0));
  if (!input || constant_of(input->integer)) return std::nullopt;
  SplitGroup group{op, *input, {}};
  for (ir::Value* result : op->outputs) {
    if (!result || !is_private(result, protected_names)) return std::nullopt;
    std::optional<QuantizedSide> output = per_tensor_quantize(result->consumers[0]);
    if (!output || output->node->input(0) != result || !same_grid(*input, *output)) return std::nullopt;
    group.outputs.push_back(*output);
  }
  return group;
}

std::optional<ConcatGroup> match_concat(ir::Node* op, const std::set<std::string>& protected_names) {
  ConcatGroup group;
  group.op = op;
  if (op->inputs.empty()) return std::nullopt;
  for (ir::Value* value : op->inputs) {
    std::optional<QuantizedSide> input = per_tensor_dequantize(value);
    if (!input || constant_of(input->integer) || !input->integer->type.has_static_shape()) return std::nullopt;
    group.inputs.push_back(*input);
  }
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  std::optional<QuantizedSide> output = per_tensor_quantize(result->consumers[0]);
  if (!output || output->node->input(0) != result) return std::nullopt;
  for (const QuantizedSide& input : group.inputs) {
    if (input.type != output->type) return std::nullopt;
  }
  group.output = *output;
  return group;
}

}  // namespace npukit::passes::qdq_groups
