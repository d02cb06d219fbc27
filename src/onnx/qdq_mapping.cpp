#include "onnx/qdq_mapping.h"

#include <algorithm>
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

// The regrouped layout of a per-group weight: each group one row of a 3-D tensor, so that a broadcast Mul by a
// [.., G, 1 ..] scale tensor applies each group's scale. Only whole groups fit a reshape: the group size must
// divide the inputs of each channel (the quantizer checks that first; here it guards hand-made parameters).
void plan_group_layout(const ir::Value& value, const ir::QuantParams& params, QdqPoint& point, const ir::Graph& graph,
                       std::set<std::string>& taken) {
  const Shape& shape = value.initializer->shape();
  const int64_t channels = shape.at(static_cast<size_t>(params.axis));
  const int64_t inputs = channels > 0 ? value.initializer->element_count() / channels : 0;
  const int64_t group = params.group_size;
  const int64_t groups = (inputs + group - 1) / group;
  if (params.axis == 0) {
    point.grouped_shape = {channels, groups, group};
    point.group_parameter_shape = {channels, groups, 1};
  } else if (params.axis == 1 && shape.size() == 2) {
    point.grouped_shape = {groups, group, channels};
    point.group_parameter_shape = {groups, 1, channels};
  } else {
    refuse(value, "per-group scales are written for a channel axis 0, or axis 1 of a 2-D weight; this one has axis " +
                      std::to_string(params.axis) + " of rank " + std::to_string(shape.size()));
  }
  point.per_group = true;
  point.group_scales_name = unique_name(graph, taken, value.name + "_group_scales");
  if (!params.symmetric()) point.group_zero_points_name = unique_name(graph, taken, value.name + "_group_zero_points");
  point.weight_shape_name = unique_name(graph, taken, value.name + "_shape");
  point.integers_name = unique_name(graph, taken, value.name + "_integers");
  if (!params.symmetric()) point.centred_name = unique_name(graph, taken, value.name + "_centred");
  point.scaled_name = unique_name(graph, taken, value.name + "_grouped");
  point.inputs = inputs;
  if (groups * group != inputs) {
    point.flat_shape_name = unique_name(graph, taken, value.name + "_padded_shape");
    point.flat_name = unique_name(graph, taken, value.name + "_padded");
    point.slice_starts_name = unique_name(graph, taken, value.name + "_slice_starts");
    point.slice_ends_name = unique_name(graph, taken, value.name + "_slice_ends");
    point.slice_axes_name = unique_name(graph, taken, value.name + "_slice_axes");
    point.sliced_name = unique_name(graph, taken, value.name + "_sliced");
  }
}

onnx::NodeProto* add_node(onnx::GraphProto& proto, const std::string& op_type, const std::string& name,
                          const std::vector<std::string>& inputs, const std::string& output) {
  onnx::NodeProto* node = proto.add_node();
  node->set_op_type(op_type);
  node->set_name(name);
  for (const std::string& input : inputs) node->add_input(input);
  node->add_output(output);
  return node;
}

// A per-group weight: integers regrouped, DQ at scale 1, [Sub zero points], Mul scales, Reshape (QdqPoint).
void write_grouped_weight(const QdqPoint& point, onnx::GraphProto& proto) {
  const ir::QuantParams& params = *point.value->quant;
  const DType container = quantization::container_dtype(params.storage);
  const Tensor integers = quantization::quantize_tensor(*point.value->initializer, params);
  // Zero-padded to whole groups when the last one is short: channel c's inputs (channels first) or the first K
  // rows (a [K, N] weight) are copied, the padding is cut off again by the Slice after the Mul.
  Tensor grouped(container, point.grouped_shape);
  std::fill_n(static_cast<std::byte*>(grouped.raw_data()), grouped.byte_size(), std::byte{0});
  const auto* from = static_cast<const std::byte*>(integers.raw_data());
  auto* to = static_cast<std::byte*>(grouped.raw_data());
  const size_t element = dtype_size(container);
  if (point.group_parameter_shape[2] == 1) {
    const int64_t padded = point.grouped_shape[1] * point.grouped_shape[2];
    for (int64_t c = 0; c < point.grouped_shape[0]; ++c) {
      std::copy_n(from + static_cast<size_t>(c * point.inputs) * element, static_cast<size_t>(point.inputs) * element,
                  to + static_cast<size_t>(c * padded) * element);
    }
  } else {
    std::copy_n(from, integers.byte_size(), to);
  }
  tensor_to_proto(grouped, point.quantized_name, *proto.add_initializer());
  tensor_to_proto(Tensor::from_vector<float>(DType::f32, {}, {1.0f}), point.scale_name, *proto.add_initializer());
  Tensor zero(container, {});
  std::fill_n(static_cast<std::byte*>(zero.raw_data()), zero.byte_size(), std::byte{0});
  tensor_to_proto(zero, point.zero_point_name, *proto.add_initializer());
  // The parameters as [C, G] (row-major) laid out in the broadcast shape: for [G, 1, N], element (g, n) is (n, g).
  const bool channels_first = point.group_parameter_shape[2] == 1;  // [C, G, 1]; otherwise [G, 1, N]
  const int64_t groups = channels_first ? point.grouped_shape[1] : point.grouped_shape[0];
  const int64_t channels = channels_first ? point.grouped_shape[0] : point.grouped_shape[2];
  std::vector<float> scales(params.scales.size()), zero_points(params.scales.size());
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t g = 0; g < groups; ++g) {
      const size_t from = static_cast<size_t>(c * groups + g);
      const size_t to = channels_first ? from : static_cast<size_t>(g * channels + c);
      scales[to] = params.scales[from];
      zero_points[to] = static_cast<float>(params.zero_point(from));
    }
  }
  tensor_to_proto(Tensor::from_vector<float>(DType::f32, point.group_parameter_shape, scales), point.group_scales_name,
                  *proto.add_initializer());
  const Shape& shape = point.value->initializer->shape();
  tensor_to_proto(Tensor::from_vector<int64_t>(DType::i64, {static_cast<int64_t>(shape.size())},
                                               std::vector<int64_t>(shape.begin(), shape.end())),
                  point.weight_shape_name, *proto.add_initializer());
  add_node(proto, "DequantizeLinear", point.integers_name + "_DequantizeLinear",
           {point.quantized_name, point.scale_name, point.zero_point_name}, point.integers_name);
  std::string centred = point.integers_name;
  if (!point.group_zero_points_name.empty()) {
    tensor_to_proto(Tensor::from_vector<float>(DType::f32, point.group_parameter_shape, zero_points),
                    point.group_zero_points_name, *proto.add_initializer());
    add_node(proto, "Sub", point.centred_name + "_Sub", {point.integers_name, point.group_zero_points_name},
             point.centred_name);
    centred = point.centred_name;
  }
  add_node(proto, "Mul", point.scaled_name + "_Mul", {centred, point.group_scales_name}, point.scaled_name);
  std::string unpadded = point.scaled_name;
  if (!point.sliced_name.empty()) {
    const bool channels_first_layout = point.group_parameter_shape[2] == 1;
    const int64_t padded = point.grouped_shape[0 + (channels_first_layout ? 1 : 0)] *
                           point.grouped_shape[1 + (channels_first_layout ? 1 : 0)];
    const std::vector<int64_t> flat = channels_first_layout ? std::vector<int64_t>{point.grouped_shape[0], padded}
                                                            : std::vector<int64_t>{padded, point.grouped_shape[2]};
    const int64_t axis = channels_first_layout ? 1 : 0;
    tensor_to_proto(Tensor::from_vector<int64_t>(DType::i64, {2}, flat), point.flat_shape_name, *proto.add_initializer());
    tensor_to_proto(Tensor::from_vector<int64_t>(DType::i64, {1}, {0}), point.slice_starts_name, *proto.add_initializer());
    tensor_to_proto(Tensor::from_vector<int64_t>(DType::i64, {1}, {point.inputs}), point.slice_ends_name,
                    *proto.add_initializer());
    tensor_to_proto(Tensor::from_vector<int64_t>(DType::i64, {1}, {axis}), point.slice_axes_name, *proto.add_initializer());
    add_node(proto, "Reshape", point.flat_name + "_Reshape", {point.scaled_name, point.flat_shape_name}, point.flat_name);
    add_node(proto, "Slice", point.sliced_name + "_Slice",
             {point.flat_name, point.slice_starts_name, point.slice_ends_name, point.slice_axes_name}, point.sliced_name);
    unpadded = point.sliced_name;
  }
  add_node(proto, "Reshape", point.dequantized_name + "_Reshape", {unpadded, point.weight_shape_name},
           point.dequantized_name);
}

}  // namespace

void attach_qdq_params(ir::Graph& graph, int64_t opset) { attach(graph, opset); }

bool is_sixteen_bit_grid(DType storage) { return storage == DType::i16 || storage == DType::u16; }

std::string imported_qdq_domain(const std::string& op_type, const std::string& domain) {
  if (domain == kContribDomain && (op_type == "QuantizeLinear" || op_type == "DequantizeLinear")) return "";
  return domain;
}

std::string exported_qdq_domain(const ir::Node& node) {
  if (!is_qdq_node(node, "QuantizeLinear") && !is_qdq_node(node, "DequantizeLinear")) return node.domain;
  // The integer side: a Q's output, a DQ's input; its type is the zero point's (or, for a DQ, its input's).
  const ir::Value* integer = node.op_type == "QuantizeLinear" ? node.output(0) : node.input(0);
  const ir::Value* zero_point = node.input(2);
  DType storage = DType::undefined;
  if (zero_point && zero_point->initializer) storage = zero_point->initializer->dtype();
  else if (integer) storage = dtype_of(*integer);
  return is_sixteen_bit_grid(storage) ? std::string(kContribDomain) : node.domain;
}

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
    const bool per_group = params.granularity() == ir::QuantGranularity::per_group;
    if (per_group && !value.initializer) {
      refuse(value, "per-group scales on an activation need block_size (ONNX opset 21); npukit's libonnx 1.12 knows "
                    "opsets up to 17");
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
      if (params.storage != DType::i8 && params.storage != DType::u8 && !is_sixteen_bit_grid(params.storage)) {
        refuse(value, std::string(dtype_name(params.storage)) +
                          " activations need ONNX opset 21 (QuantizeLinear to int4); opsets up to 17 have int8 and "
                          "uint8 (int16 and uint16 are written in ONNX Runtime's com.microsoft domain)");
      }
      if (params.narrow_range) refuse(value, "QuantizeLinear saturates to the whole grid; a narrow range cannot be stated");
      if (params.rounding != ir::RoundingMode::half_to_even) {
        refuse(value, "QuantizeLinear rounds half to even; rounding " + std::string(ir::rounding_mode_name(params.rounding)) +
                          " belongs in the target's quantization spec, not in the file");
      }
    }
    point.scale_name = unique_name(graph, taken, value.name + "_scale");
    point.zero_point_name = unique_name(graph, taken, value.name + "_zero_point");
    point.quantized_name = unique_name(graph, taken, value.name + "_quantized");
    if (per_group) plan_group_layout(value, params, point, graph, taken);
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
  if (point.per_group) {
    write_grouped_weight(point, proto);
    return;
  }
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
      case DType::i16: zero_point.data<int16_t>()[i] = static_cast<int16_t>(zero); break;
      case DType::u16: zero_point.data<uint16_t>()[i] = static_cast<uint16_t>(zero); break;
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
    if (is_sixteen_bit_grid(container)) quantize->set_domain(kContribDomain);
    quantize->set_name(point.quantized_name);
    quantize->add_input(point.quantize_input);
    quantize->add_input(point.scale_name);
    quantize->add_input(point.zero_point_name);
    quantize->add_output(point.quantized_name);
    add_axis(*quantize);
  }
  onnx::NodeProto* dequantize = proto.add_node();
  dequantize->set_op_type("DequantizeLinear");
  if (is_sixteen_bit_grid(container)) dequantize->set_domain(kContribDomain);
  dequantize->set_name(point.dequantized_name + "_DequantizeLinear");
  dequantize->add_input(point.quantized_name);
  dequantize->add_input(point.scale_name);
  dequantize->add_input(point.zero_point_name);
  dequantize->add_output(point.dequantized_name);
  add_axis(*dequantize);
}

}  // namespace npukit::onnx_io
