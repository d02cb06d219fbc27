#include "onnx/qdq_mapping.h"

#include <set>

#include "npukit/error.h"
#include "onnx/tensor_proto.h"
#include "quantization/quantize.h"

namespace npukit::onnx_io {

namespace {

bool is_qdq_node(const ir::Node& node, std::string_view op) { return node.op_type == op && node.domain.empty(); }

std::optional<std::vector<int64_t>> dims_of(const ir::Value& value) {
  if (value.initializer) return value.initializer->shape();
  return ir::static_dims_of(&value);
}

std::optional<size_t> rank_of(const ir::Value& value) {
  if (value.initializer) return value.initializer->rank();
  if (value.type.shape) return value.type.shape->size();
  return std::nullopt;
}

DType dtype_of(const ir::Value& value) { return value.initializer ? value.initializer->dtype() : value.type.dtype; }

// The parameters a Q or DQ node states for its integer value, or nullopt when its scale or zero point is not a
// constant.
std::optional<ir::QuantParams> params_of(const ir::Node& node, const ir::Value& quantized, int64_t opset) {
  const ir::Value* scale = node.input(1);
  const ir::Value* zero_point = node.input(2);
  if (!scale || !scale->initializer) return std::nullopt;
  if (zero_point && !zero_point->initializer) return std::nullopt;
  ir::QuantParams params;
  // ONNX: the zero point's type is the grid's; without one a Q writes uint8, and a DQ reads its input's type.
  if (zero_point) params.storage = zero_point->initializer->dtype();
  else if (node.op_type == "QuantizeLinear") params.storage = DType::u8;
  else params.storage = dtype_of(quantized);
  if (!dtype_is_integer(params.storage)) return std::nullopt;  // an untyped input: nothing certain to record
  params.scales = scale->initializer->to_float_vector();
  if (zero_point) params.zero_points = zero_point->initializer->to_int64_vector();
  // A scale of one element is per tensor (ONNX Runtime reads it so too); more elements are per axis.
  if (scale->initializer->element_count() != 1) {
    int64_t axis = opset >= 13 ? node.get_int("axis", 1) : 1;
    const std::optional<size_t> rank = rank_of(quantized);
    if (axis < 0 && rank) axis += static_cast<int64_t>(*rank);
    if (axis < 0) {
      throw Error(ErrorKind::invalid_model,
                  "axis " + std::to_string(axis) + " cannot be resolved without the rank of '" + quantized.name + "'", {},
                  node.describe());
    }
    params.axis = axis;
  }
  try {
    params.validate(dims_of(quantized), "'" + quantized.name + "'");
  } catch (const Error& error) {
    throw Error(ErrorKind::invalid_model, error.reason(), {}, node.describe());
  }
  return params;
}

void attach(ir::Graph& graph, int64_t opset) {
  for (const auto& node : graph.nodes()) {
    for (ir::Graph* body : ir::subgraphs_of(*node)) attach(*body, opset);
    ir::Value* quantized = nullptr;
    if (is_qdq_node(*node, "QuantizeLinear")) quantized = node->output(0);
    if (is_qdq_node(*node, "DequantizeLinear")) quantized = node->input(0);
    if (!quantized || !node->input(1)) continue;
    std::optional<ir::QuantParams> params = params_of(*node, *quantized, opset);
    // A value between a Q and its DQ is seen twice; the first (its Q, in topological order) names it.
    if (params && !quantized->quant) quantized->quant = std::move(params);
  }
}

// A name no value of the graph and no earlier point uses: base, base_1, base_2, ...
std::string unique_name(const ir::Graph& graph, std::set<std::string>& taken, const std::string& base) {
  std::string name = base;
  for (int suffix = 1; graph.find_value(name) || taken.count(name); ++suffix) name = base + "_" + std::to_string(suffix);
  taken.insert(name);
  return name;
}

void refuse(const ir::Value& value, const std::string& reason) {
  throw Error(ErrorKind::unsupported, "cannot write the quantization of '" + value.name + "' as QuantizeLinear / "
                                      "DequantizeLinear: " + reason);
}

}  // namespace

void attach_qdq_params(ir::Graph& graph, int64_t opset) { attach(graph, opset); }

bool has_quantization_points(const ir::Graph& graph) {
  for (const auto& value : graph.values()) {
    if (value->quant && !value->outer_scope && dtype_is_float(dtype_of(*value))) return true;
  }
  for (const auto& node : graph.nodes()) {
    for (const ir::Graph* body : ir::subgraphs_of(*node)) {
      if (has_quantization_points(*body)) return true;
    }
  }
  return false;
}

QdqExportPlan plan_qdq_export(const ir::Graph& graph, int64_t opset) {
  QdqExportPlan plan;
  for (const auto& node : graph.nodes()) {
    for (const ir::Graph* body : ir::subgraphs_of(*node)) {
      if (has_quantization_points(*body)) {
        throw Error(ErrorKind::unsupported, "quantization points inside subgraphs are not written yet", {},
                    node->describe());
      }
    }
  }
  std::set<std::string> taken;
  for (const auto& owned : graph.values()) {
    const ir::Value& value = *owned;
    if (!value.quant || value.outer_scope || !dtype_is_float(dtype_of(value))) continue;
    const ir::QuantParams& params = *value.quant;
    try {
      params.validate(dims_of(value), "'" + value.name + "'");
    } catch (const Error& error) {
      throw Error(ErrorKind::invalid_argument, error.reason());
    }
    if (opset < 10) refuse(value, "the model's opset " + std::to_string(opset) + " has no QuantizeLinear (opset 10)");
    if (params.granularity() == ir::QuantGranularity::per_group) {
      refuse(value, "per-group scales need block_size (ONNX opset 21); npukit's libonnx 1.12 knows opsets up to 17");
    }
    if (params.axis >= 0 && opset < 13) refuse(value, "per-axis scales need opset 13; the model imports " + std::to_string(opset));
    QdqPoint point;
    point.value = &value;
    point.is_weight = value.initializer.has_value();
    if (point.is_weight) {
      const DType storage = params.storage;
      if (storage != DType::i8 && storage != DType::u8 && storage != DType::i4 && storage != DType::u4 && storage != DType::i32) {
        refuse(value, std::string(dtype_name(storage)) + " weights need ONNX opset 21 (DequantizeLinear of int16)");
      }
      if (storage == DType::i32 && !params.symmetric()) refuse(value, "an int32 DequantizeLinear needs zero points of 0");
      if (value.initializer->dtype() != DType::f32) refuse(value, "only f32 weights are quantized here");
    } else {
      if (params.storage != DType::i8 && params.storage != DType::u8) {
        refuse(value, std::string(dtype_name(params.storage)) +
                          " activations need ONNX opset 21 (QuantizeLinear to int16, int4); opsets up to 17 have int8 and uint8");
      }
      if (params.narrow_range) refuse(value, "QuantizeLinear saturates to [-128, 127]; a narrow range [-127, 127] cannot be stated");
      if (params.rounding != ir::RoundingMode::half_to_even) {
        refuse(value, "QuantizeLinear rounds half to even; rounding " + std::string(ir::rounding_mode_name(params.rounding)) +
                          " belongs in the target's quantization spec, not in the file");
      }
    }
    point.scale_name = unique_name(graph, taken, value.name + "_scale");
    point.zero_point_name = unique_name(graph, taken, value.name + "_zero_point");
    point.quantized_name = unique_name(graph, taken, value.name + "_quantized");
    if (point.is_weight) {
      point.dequantized_name = value.name;  // consumers read the DQ's output under the weight's name
    } else if (!value.producer) {
      // A graph input keeps its name: the Q reads it and every consumer is pointed at the DQ's output.
      point.quantize_input = value.name;
      point.dequantized_name = unique_name(graph, taken, value.name + "_dequantized");
      plan.consumer_input_names[value.name] = point.dequantized_name;
    } else {
      // The producer writes under a new name, so the DQ's output keeps the value's name (and a graph output stays
      // a graph output).
      point.quantize_input = unique_name(graph, taken, value.name + "_float");
      point.dequantized_name = value.name;
      plan.producer_output_names[value.name] = point.quantize_input;
    }
    plan.points.push_back(std::move(point));
  }
  for (const QdqPoint& point : plan.points) plan.by_value[point.value] = &point;
  return plan;
}

void write_qdq_nodes(const QdqPoint& point, onnx::GraphProto& proto) {
  const ir::QuantParams& params = *point.value->quant;
  const DType container = quantization::container_dtype(params.storage);
  const bool per_tensor = params.axis < 0;
  const Shape parameter_shape = per_tensor ? Shape{} : Shape{static_cast<int64_t>(params.scales.size())};
  tensor_to_proto(Tensor::from_vector<float>(DType::f32, parameter_shape, params.scales), point.scale_name,
                  *proto.add_initializer());
  Tensor zero_point(container, parameter_shape);
  for (size_t i = 0; i < params.scales.size(); ++i) {
    const int64_t zero = params.zero_point(i);
    switch (container) {
      case DType::i8: zero_point.data<int8_t>()[i] = static_cast<int8_t>(zero); break;
      case DType::u8: zero_point.data<uint8_t>()[i] = static_cast<uint8_t>(zero); break;
      case DType::i32: zero_point.data<int32_t>()[i] = static_cast<int32_t>(zero); break;
      default: throw Error(ErrorKind::internal, "write_qdq_nodes: unexpected container type");
    }
  }
  tensor_to_proto(zero_point, point.zero_point_name, *proto.add_initializer());
  auto add_axis = [&](onnx::NodeProto& node) {
    if (per_tensor) return;
    auto* axis = node.add_attribute();
    axis->set_name("axis");
    axis->set_type(onnx::AttributeProto_AttributeType_INT);
    axis->set_i(params.axis);
  };
  if (point.is_weight) {
    tensor_to_proto(quantization::quantize_tensor(*point.value->initializer, params), point.quantized_name,
                    *proto.add_initializer());
  } else {
    onnx::NodeProto* quantize = proto.add_node();
    quantize->set_op_type("QuantizeLinear");
    quantize->set_name(point.quantized_name);
    quantize->add_input(point.quantize_input);
    quantize->add_input(point.scale_name);
    quantize->add_input(point.zero_point_name);
    quantize->add_output(point.quantized_name);
    add_axis(*quantize);
  }
  onnx::NodeProto* dequantize = proto.add_node();
  dequantize->set_op_type("DequantizeLinear");
  dequantize->set_name(point.dequantized_name + "_DequantizeLinear");
  dequantize->add_input(point.quantized_name);
  dequantize->add_input(point.scale_name);
  dequantize->add_input(point.zero_point_name);
  dequantize->add_output(point.dequantized_name);
  add_axis(*dequantize);
}

}  // namespace npukit::onnx_io
