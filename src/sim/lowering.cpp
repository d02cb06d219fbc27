#include "sim/lowering.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "npukit/error.h"
#include "passes/graph_editing.h"
#include "quantization/quantize.h"
#include "runtime/kernels/integer/lookup_table.h"
#include "runtime/kernels/integer/requantizer.h"
#include "sim/grouped_weight_pattern.h"
#include "sim/integer_ops.h"

namespace npukit::sim {

namespace {

using ir::Node;
using ir::QuantParams;
using ir::Value;

// Why a group keeps its float op: thrown before the graph is touched, caught per group.
struct Refusal {
  std::string reason;
};

// A float value read through a DequantizeLinear of an integer value with constant parameters.
struct Dequantized {
  Node* dequantize = nullptr;
  Value* integer = nullptr;
  const QuantParams* params = nullptr;
  bool constant() const { return integer->initializer.has_value() && !integer->is_graph_input; }
};

std::optional<Dequantized> read_through_dequantize(Value* value) {
  if (!value || !value->producer) return std::nullopt;
  Node* producer = value->producer;
  if (producer->op_type != "DequantizeLinear" || !producer->domain.empty()) return std::nullopt;
  Value* integer = producer->input(0);
  if (!integer || !integer->quant) return std::nullopt;
  return Dequantized{producer, integer, &*integer->quant};
}

Dequantized dequantized_input(const Node& node, size_t index, const char* role) {
  std::optional<Dequantized> source = read_through_dequantize(node.input(index));
  if (!source) {
    throw Refusal{std::string(role) + " '" + (node.input(index) ? node.input(index)->name : "") +
                  "' is not read through a DequantizeLinear with constant parameters"};
  }
  return *source;
}

void require_per_tensor(const QuantParams& params, const std::string& what) {
  if (params.scales.size() != 1) throw Refusal{what + " is quantized " + std::string(ir::granularity_name(params.granularity())) + "; the integer kernels take one scale per activation"};
}

// The fused activation and QuantizeLinear after a node.
struct QuantizedOutput {
  Node* activation = nullptr;
  Node* quantize = nullptr;
  Value* integer = nullptr;
  const QuantParams* params = nullptr;
};

Node* single_consumer(const Value* value) {
  if (!value || value->is_graph_output || value->consumers.size() != 1) return nullptr;
  return value->consumers[0];
}

bool is_fusable_activation(const Node* node) {
  return node && node->domain.empty() && (node->op_type == "Relu" || node->op_type == "Clip");
}

QuantizedOutput quantized_output(const Node& node, bool allow_activation) {
  size_t produced = 0;
  for (const Value* output : node.outputs) produced += output && (!output->consumers.empty() || output->is_graph_output);
  if (produced != 1 || !node.output(0)) throw Refusal{"it has more than one output in use"};
  QuantizedOutput result;
  Node* next = single_consumer(node.output(0));
  if (is_fusable_activation(next)) {
    if (!allow_activation) throw Refusal{"a fused " + next->op_type + " after it has no integer form here"};
    result.activation = next;
    next = single_consumer(next->output(0));
  }
  if (!next || next->op_type != "QuantizeLinear" || !next->domain.empty() || !next->output(0) || !next->output(0)->quant) {
    throw Refusal{"its output is not quantized (no single QuantizeLinear with constant parameters reads it)"};
  }
  result.quantize = next;
  result.integer = next->output(0);
  result.params = &*result.integer->quant;
  require_per_tensor(*result.params, "its output");
  return result;
}

ir::Attribute floats_attribute(std::vector<double> values) {
  ir::Attribute attribute;
  attribute.kind = ir::Attribute::Kind::floats;
  attribute.float_values = std::move(values);
  return attribute;
}

bool same_grid(const QuantParams& a, const QuantParams& b) {
  return a.storage == b.storage && a.scales == b.scales && a.zero_point(0) == b.zero_point(0);
}

// A constant float scalar input of a node (Clip's min / max), or the fallback when absent.
float constant_scalar(const Node& node, size_t index, float fallback) {
  const Value* value = node.input(index);
  if (!value) return fallback;
  const Tensor* data = passes::constant_of(value);
  if (!data || data->element_count() != 1) throw Refusal{"Clip bounds that are not constants"};
  return static_cast<float>(data->value_as_double(0));
}

class Lowering {
 public:
  Lowering(ir::Model& model, const targets::NumericsSpec& spec) : model_(model), graph_(*model.graph), spec_(spec) {}

  LoweringReport run() {
    std::vector<Node*> snapshot;
    for (const auto& node : graph_.nodes()) snapshot.push_back(node.get());
    for (Node* node : snapshot) {
      if (removed_.count(node) || !node->domain.empty() || is_qdq(*node)) continue;
      try {
        report_.integer_nodes.push_back({node->name, node->op_type, lower(*node)});
      } catch (const Refusal& refusal) {
        refused_[node] = refusal.reason;
      } catch (const Error& error) {
        // A parameter the target cannot express (a scale ratio that is not a power of two, ...).
        refused_[node] = error.reason();
      }
    }
    for (Node* node : snapshot) {
      if (removed_.count(node) || node->op_type != "QuantizeLinear" || !node->domain.empty()) continue;
      const Value* source = node->input(0);
      if (source && source->is_graph_input && !source->producer) {
        try {
          report_.integer_nodes.push_back({node->name, node->op_type, lower_input_quantize(*node)});
          continue;
        } catch (const Refusal& refusal) {
          refused_[node] = refusal.reason;
        }
      }
      report_.float_nodes.push_back(
          {node->name, node->op_type,
           refused_.count(node) ? refused_[node]
                                : "quantizes the result of a float op: runs as ONNX QuantizeLinear (half to even)"});
    }
    for (Node* node : snapshot) {
      if (removed_.count(node) || !node->domain.empty() || is_qdq(*node)) continue;
      if (node->op_type == "Identity") continue;  // a copy is exact in any arithmetic (a graph output's name)
      auto reason = refused_.find(node);
      report_.float_nodes.push_back({node->name, node->op_type,
                                     reason != refused_.end() ? reason->second : "not part of a DQ -> op -> Q group"});
    }
    model_.opset_imports[kIntegerDomain] = 1;
    passes::tidy_after_rewrites(graph_);
    return report_;
  }

 private:
  static bool is_qdq(const Node& node) {
    return node.domain.empty() && (node.op_type == "QuantizeLinear" || node.op_type == "DequantizeLinear");
  }

  std::string lower(Node& node) {
    const std::string& op = node.op_type;
    if (op == "Conv") return lower_convolution(node);
    if (op == "Gemm" || op == "MatMul") return lower_matmul(node);
    if (op == "Add") return lower_add(node);
    if (op == "Mul") return lower_mul(node);
    if (op == "Concat") return lower_concat(node);
    if (op == "AveragePool" || op == "GlobalAveragePool") return lower_average_pool(node);
    if (kDataMovementOps.count(op)) return lower_data_movement(node);
    if (runtime::integer::lookup_function(op)) return lower_lookup_table(node);
    throw Refusal{"no integer kernel for " + op};
  }

  // --- shared pieces ------------------------------------------------------------------------------------------
  int multiplier_bits() const { return static_cast<int>(spec_.multiplier_bits.value); }

  // Throws (Error) when the target cannot express a multiplier, before anything is rewritten.
  void check_multipliers(const std::vector<double>& multipliers) const {
    runtime::integer::Requantizer(multipliers, spec_.requantization.value, multiplier_bits());
  }

  std::pair<int64_t, int64_t> clamp_bounds(const QuantizedOutput& output) const {
    int64_t minimum = output.params->storage_min(), maximum = output.params->storage_max();
    if (!output.activation) return {minimum, maximum};
    const float scale = output.params->scales[0];
    const int64_t zero_point = output.params->zero_point(0);
    // TFLite's CalculateActivationRangeQuantized: zp + round(bound / scale), the division in float.
    auto on_grid = [&](float bound) {
      return zero_point + static_cast<int64_t>(quantization::round_with(bound / scale, spec_.quantize_rounding.value));
    };
    if (output.activation->op_type == "Relu") return {std::max(minimum, zero_point), maximum};
    const float low = output.activation->has_attribute("min") ? static_cast<float>(output.activation->get_float("min", 0))
                                                              : constant_scalar(*output.activation, 1, -INFINITY);
    const float high = output.activation->has_attribute("max") ? static_cast<float>(output.activation->get_float("max", 0))
                                                               : constant_scalar(*output.activation, 2, INFINITY);
    if (std::isfinite(low)) minimum = std::max(minimum, on_grid(low));
    if (std::isfinite(high)) maximum = std::min(maximum, on_grid(high));
    if (minimum > maximum) throw Refusal{"the Clip bounds leave no value on the output grid"};
    return {minimum, maximum};
  }

  // `bounds`: clamp_bounds(output), computed before the group's nodes are removed (it reads the activation).
  void set_output_stage(Node* node, const std::vector<double>& multipliers, const QuantParams& output,
                        std::pair<int64_t, int64_t> bounds) const {
    const auto [minimum, maximum] = bounds;
    node->attributes["requantization"] = passes::string_attribute(std::string(targets::requantization_name(spec_.requantization.value)));
    node->attributes["multiplier_bits"] = passes::integer_attribute(multiplier_bits());
    node->attributes["multipliers"] = floats_attribute(multipliers);
    node->attributes["output_zero_point"] = passes::integer_attribute(output.zero_point(0));
    node->attributes["output_min"] = passes::integer_attribute(minimum);
    node->attributes["output_max"] = passes::integer_attribute(maximum);
  }

  // Removes the group's float op, its fused activation and its QuantizeLinear (the integer node takes over
  // the QuantizeLinear's output value).
  void remove_group(Node& node, const QuantizedOutput& output) {
    record_source(*output.quantize);
    for (Node* member : {output.quantize, output.activation, &node}) {
      if (!member) continue;
      removed_.insert(member);
      graph_.remove_node(member);
    }
  }

  // The integer value a QuantizeLinear wrote stands for the float value it read: remembered for compare.
  // Its DequantizeLinear outputs come first (the quantized real value, under the float model's name in an
  // export that renames the float value before its QuantizeLinear), then the QuantizeLinear's input.
  void record_source(const Node& quantize) {
    const Value* integer = quantize.output(0);
    const Value* real = quantize.input(0);
    if (!integer || !real) return;
    std::vector<std::string>& names = report_.source_names[integer->name];
    for (const Node* consumer : integer->consumers) {
      if (consumer->domain.empty() && consumer->op_type == "DequantizeLinear" && consumer->output(0)) names.push_back(consumer->output(0)->name);
    }
    names.push_back(real->name);
  }

  Node* add_integer_node(const std::string& op_type, std::vector<Value*> inputs, std::vector<Value*> outputs,
                         const std::string& name) {
    return graph_.add_node(op_type, std::move(inputs), std::move(outputs), name, kIntegerDomain);
  }

  Value* add_integer_value(const std::string& base, const QuantParams& params) {
    Value* value = graph_.add_value(passes::unused_value_name(graph_, base));
    value->type.dtype = params.storage;
    value->quant = params;
    return value;
  }

  Value* add_initializer(const std::string& base, Tensor data, const QuantParams& params) {
    Value* value = graph_.add_initializer(passes::unused_value_name(graph_, base), std::move(data));
    value->quant = params;
    return value;
  }

  // An IntegerRequantize from `source` (params `from`) to `target` (params `to`), clamped to `to`'s grid.
  void add_requantize(Value* source, const QuantParams& from, Value* target, const QuantParams& to, const std::string& name) {
    Node* node = add_integer_node(ops::requantize, {source}, {target}, name);
    node->attributes["input_zero_point"] = passes::integer_attribute(from.zero_point(0));
    set_output_stage(node, {static_cast<double>(from.scales[0]) / static_cast<double>(to.scales[0])}, to,
                     {to.storage_min(), to.storage_max()});
  }

  // --- ops ------------------------------------------------------------------------------------------------------
  std::string lower_convolution(Node& node) {
    if (std::optional<GroupedWeightSource> grouped = read_grouped_weight(node.input(1))) {
      return lower_grouped_convolution(node, *grouped);
    }
    const Dequantized input = dequantized_input(node, 0, "the input");
    const Dequantized weights = dequantized_input(node, 1, "the weights");
    std::optional<Dequantized> bias;
    if (node.input(2)) bias = dequantized_input(node, 2, "the bias");
    const QuantizedOutput output = quantized_output(node, true);
    require_per_tensor(*input.params, "the input");
    if (!weights.constant()) throw Refusal{"the weights are not a constant"};
    const Tensor& weight_data = *weights.integer->initializer;
    if (weight_data.rank() != 4) throw Refusal{"only 2-D convolutions have an integer kernel"};
    if (node.get_string("auto_pad", "NOTSET") != "NOTSET") throw Refusal{"auto_pad " + node.get_string("auto_pad", "") + " (write explicit pads)"};
    const int64_t out_channels = weight_data.dim(0);
    const QuantParams& w = *weights.params;
    if (w.scales.size() != 1 && w.axis != 0) throw Refusal{"the weights are per channel along axis " + std::to_string(w.axis) + ", not the output channels"};
    std::vector<double> multipliers;
    for (size_t m = 0; m < w.scales.size(); ++m) {
      multipliers.push_back(static_cast<double>(input.params->scales[0]) * static_cast<double>(w.scales[m]) /
                            static_cast<double>(output.params->scales[0]));
    }
    check_multipliers(multipliers);
    Value* bias_value = bias ? integer_bias(node, *bias, input.params->scales[0], w, out_channels) : nullptr;
    std::vector<int64_t> weight_zero_points;
    for (size_t m = 0; m < w.scales.size(); ++m) weight_zero_points.push_back(w.zero_point(m));
    const auto bounds = clamp_bounds(output);  // refuses bad Clip bounds before the rewrite
    const std::string clamp_text = output.activation ? ", " + output.activation->op_type + " as the output clamp" : "";

    std::vector<Value*> inputs{input.integer, weights.integer};
    if (bias_value) inputs.push_back(bias_value);
    const std::string name = node.name;
    const std::vector<int64_t> strides = node.get_ints("strides", {1, 1});
    const std::vector<int64_t> dilations = node.get_ints("dilations", {1, 1});
    const std::vector<int64_t> pads = node.get_ints("pads", {0, 0, 0, 0});
    const int64_t group = node.get_int("group", 1);
    remove_group(node, output);
    Node* conv = add_integer_node(ops::convolution, inputs, {output.integer}, name);
    conv->attributes["strides"] = passes::integers_attribute(strides);
    conv->attributes["dilations"] = passes::integers_attribute(dilations);
    conv->attributes["pads"] = passes::integers_attribute(pads);
    conv->attributes["group"] = passes::integer_attribute(group);
    conv->attributes["input_zero_point"] = passes::integer_attribute(input.params->zero_point(0));
    conv->attributes["weight_zero_points"] = passes::integers_attribute(weight_zero_points);
    set_output_stage(conv, multipliers, *output.params, bounds);
    return std::string(ops::convolution) + (multipliers.size() > 1 ? ", per-channel multipliers" : "") +
           clamp_text;
  }

  // The int32 bias at scale s_x * s_w[m]. A bias stored at another scale (a quantizer's rounding of the
  // product) is brought to it, rounded half away from zero, and noted.
  Value* integer_bias(const Node& node, const Dequantized& bias, float input_scale, const QuantParams& weights, int64_t channels) {
    if (!bias.constant()) throw Refusal{"the bias is not a constant"};
    const Tensor& data = *bias.integer->initializer;
    if (data.dtype() != DType::i32 || data.element_count() != channels) throw Refusal{"the bias is not int32 with one value per output channel"};
    const QuantParams& b = *bias.params;
    std::vector<int32_t> values(static_cast<size_t>(channels));
    bool rescaled = false;
    for (int64_t m = 0; m < channels; ++m) {
      const size_t bias_index = b.scales.size() == 1 ? 0 : static_cast<size_t>(m);
      if (b.zero_point(bias_index) != 0) throw Refusal{"the bias has a zero point other than 0"};
      const double expected = static_cast<double>(input_scale) * static_cast<double>(weights.scales[weights.scales.size() == 1 ? 0 : m]);
      const double stored = b.scales[bias_index];
      const int64_t q = data.value_as_int64(m);
      if (std::abs(stored - expected) <= 1e-6 * expected) {
        values[m] = static_cast<int32_t>(q);
      } else {
        rescaled = true;
        const double v = quantization::round_with(static_cast<double>(q) * stored / expected, ir::RoundingMode::half_away_from_zero);
        values[m] = static_cast<int32_t>(std::clamp(v, -2147483648.0, 2147483647.0));
      }
    }
    if (!rescaled) return bias.integer;
    report_.notes.push_back("node '" + node.name + "': the bias was stored at another scale than s_x * s_w; rescaled to it (half away from zero)");
    QuantParams params;
    params.storage = DType::i32;
    params.scales.assign(static_cast<size_t>(channels), 0);
    for (int64_t m = 0; m < channels; ++m) params.scales[m] = input_scale * weights.scales[weights.scales.size() == 1 ? 0 : m];
    params.axis = 0;
    return add_initializer(bias.integer->name + "_at_accumulator_scale", Tensor::from_vector(DType::i32, {channels}, values), params);
  }

  std::string lower_matmul(Node& node) {
    const bool gemm = node.op_type == "Gemm";
    if (gemm && (node.get_float("alpha", 1.0) != 1.0 || node.get_float("beta", 1.0) != 1.0 || node.get_int("transA", 0) != 0)) {
      throw Refusal{"Gemm with alpha or beta other than 1, or transA"};
    }
    const bool transposed = gemm && node.get_int("transB", 0) != 0;
    if (std::optional<GroupedWeightSource> grouped = read_grouped_weight(node.input(1))) {
      return lower_grouped_matmul(node, *grouped, transposed);
    }
    const Dequantized a = dequantized_input(node, 0, "input A");
    const Dequantized b = dequantized_input(node, 1, "input B");
    std::optional<Dequantized> bias;
    if (gemm && node.input(2)) bias = dequantized_input(node, 2, "the bias");
    const QuantizedOutput output = quantized_output(node, true);
    require_per_tensor(*a.params, "input A");
    const QuantParams& w = *b.params;
    Value* right = b.integer;
    int64_t columns = 0;
    if (b.constant()) {
      const Tensor& data = *b.integer->initializer;
      if (data.rank() != 2) throw Refusal{"a constant B of rank other than 2"};
      const int64_t column_axis = transposed ? 0 : 1;
      if (w.scales.size() != 1 && w.axis != column_axis) throw Refusal{"B is per channel along another axis than the output columns"};
      columns = data.dim(column_axis);
      if (transposed) right = nullptr;  // transposed below, once nothing can refuse
    } else {
      require_per_tensor(w, "input B");
      if (transposed) throw Refusal{"a computed B with transB"};
    }
    std::vector<double> multipliers;
    for (size_t j = 0; j < w.scales.size(); ++j) {
      multipliers.push_back(static_cast<double>(a.params->scales[0]) * static_cast<double>(w.scales[j]) /
                            static_cast<double>(output.params->scales[0]));
    }
    check_multipliers(multipliers);
    Value* bias_value = bias ? integer_bias(node, *bias, a.params->scales[0], w, columns) : nullptr;
    const auto bounds = clamp_bounds(output);
    const std::string clamp_text = output.activation ? ", " + output.activation->op_type + " as the output clamp" : "";
    if (!right) right = transposed_weights(*b.integer);
    std::vector<int64_t> zero_points;
    for (size_t j = 0; j < w.scales.size(); ++j) zero_points.push_back(w.zero_point(j));
    std::vector<Value*> inputs{a.integer, right};
    if (bias_value) inputs.push_back(bias_value);
    const std::string name = node.name;
    remove_group(node, output);
    Node* matmul = add_integer_node(ops::matmul, inputs, {output.integer}, name);
    matmul->attributes["a_zero_point"] = passes::integer_attribute(a.params->zero_point(0));
    matmul->attributes["b_zero_points"] = passes::integers_attribute(zero_points);
    set_output_stage(matmul, multipliers, *output.params, bounds);
    return std::string(ops::matmul) + (multipliers.size() > 1 ? ", per-channel multipliers" : "") +
           clamp_text;
  }

  // --- weights per group (sim/grouped_weight_pattern.h, runtime/kernels/integer/grouped_weights.h) -------------
  // The channel's coarsest group scale s_ref[m] (per channel, as a bias and the requantization see it), and each
  // group's ratio s_w[m, g] / s_ref[m].
  static QuantParams reference_scales(const QuantParams& grouped, int64_t channels, std::vector<double>& ratios) {
    QuantParams reference;
    reference.storage = grouped.storage;
    reference.axis = 0;
    const size_t groups = channels > 0 ? grouped.scales.size() / static_cast<size_t>(channels) : 0;
    if (groups == 0 || groups * static_cast<size_t>(channels) != grouped.scales.size()) throw Refusal{"group scales that do not split into the channels"};
    for (size_t m = 0; m < static_cast<size_t>(channels); ++m) {
      const auto first = grouped.scales.begin() + static_cast<std::ptrdiff_t>(m * groups);
      const float coarsest = *std::max_element(first, first + static_cast<std::ptrdiff_t>(groups));
      reference.scales.push_back(coarsest);
      for (size_t g = 0; g < groups; ++g) ratios.push_back(static_cast<double>(grouped.scales[m * groups + g]) / coarsest);
    }
    return reference;
  }

  // The weight's Reshape, Mul, Sub and DequantizeLinear, once nothing else reads them.
  void remove_grouped_weight_nodes(const GroupedWeightSource& source) {
    for (Node* member : source.nodes) {
      bool read = false;
      for (const Value* output : member->outputs) read = read || (output && (!output->consumers.empty() || output->is_graph_output));
      if (read || removed_.count(member)) continue;
      removed_.insert(member);
      graph_.remove_node(member);
    }
  }

  std::vector<int64_t> group_zero_points(const QuantParams& grouped) const {
    std::vector<int64_t> zero_points;
    for (size_t i = 0; i < grouped.scales.size(); ++i) zero_points.push_back(grouped.zero_point(i));
    return zero_points;
  }

  std::string lower_grouped_convolution(Node& node, const GroupedWeightSource& source) {
    const Dequantized input = dequantized_input(node, 0, "the input");
    std::optional<Dequantized> bias;
    if (node.input(2)) bias = dequantized_input(node, 2, "the bias");
    const QuantizedOutput output = quantized_output(node, true);
    require_per_tensor(*input.params, "the input");
    if (source.integers.rank() != 4) throw Refusal{"only 2-D convolutions have an integer kernel"};
    if (source.params.axis != 0) throw Refusal{"the weight groups are not along the output channels"};
    if (node.get_string("auto_pad", "NOTSET") != "NOTSET") throw Refusal{"auto_pad " + node.get_string("auto_pad", "") + " (write explicit pads)"};
    const int64_t out_channels = source.integers.dim(0);
    std::vector<double> ratios;
    const QuantParams reference = reference_scales(source.params, out_channels, ratios);
    std::vector<double> multipliers;
    for (float scale : reference.scales) {
      multipliers.push_back(static_cast<double>(input.params->scales[0]) * scale / static_cast<double>(output.params->scales[0]));
    }
    check_multipliers(multipliers);
    Value* bias_value = bias ? integer_bias(node, *bias, input.params->scales[0], reference, out_channels) : nullptr;
    const auto bounds = clamp_bounds(output);
    const std::string clamp_text = output.activation ? ", " + output.activation->op_type + " as the output clamp" : "";
    Value* weights = add_initializer(node.input(1)->name + "_group_integers", source.integers, source.params);
    std::vector<Value*> inputs{input.integer, weights};
    if (bias_value) inputs.push_back(bias_value);
    const std::string name = node.name;
    const std::vector<int64_t> strides = node.get_ints("strides", {1, 1});
    const std::vector<int64_t> dilations = node.get_ints("dilations", {1, 1});
    const std::vector<int64_t> pads = node.get_ints("pads", {0, 0, 0, 0});
    const int64_t group = node.get_int("group", 1);
    remove_group(node, output);
    remove_grouped_weight_nodes(source);
    Node* conv = add_integer_node(ops::grouped_convolution, inputs, {output.integer}, name);
    conv->attributes["strides"] = passes::integers_attribute(strides);
    conv->attributes["dilations"] = passes::integers_attribute(dilations);
    conv->attributes["pads"] = passes::integers_attribute(pads);
    conv->attributes["group"] = passes::integer_attribute(group);
    conv->attributes["input_zero_point"] = passes::integer_attribute(input.params->zero_point(0));
    conv->attributes["group_size"] = passes::integer_attribute(source.params.group_size);
    conv->attributes["group_ratios"] = floats_attribute(ratios);
    conv->attributes["weight_zero_points"] = passes::integers_attribute(group_zero_points(source.params));
    set_output_stage(conv, multipliers, *output.params, bounds);
    return std::string(ops::grouped_convolution) + ", groups of " + std::to_string(source.params.group_size) + clamp_text;
  }

  std::string lower_grouped_matmul(Node& node, const GroupedWeightSource& source, bool transposed) {
    const Dequantized a = dequantized_input(node, 0, "input A");
    std::optional<Dequantized> bias;
    if (node.op_type == "Gemm" && node.input(2)) bias = dequantized_input(node, 2, "the bias");
    const QuantizedOutput output = quantized_output(node, true);
    require_per_tensor(*a.params, "input A");
    if (source.integers.rank() != 2) throw Refusal{"grouped weights of rank other than 2"};
    // Gemm transB: [N, K] grouped along axis 0's rows; otherwise [K, N] along axis 1's columns.
    if (source.params.axis != (transposed ? 0 : 1)) throw Refusal{"the weight groups are not along the output columns"};
    const int64_t columns = source.integers.dim(transposed ? 0 : 1);
    std::vector<double> ratios;
    const QuantParams reference = reference_scales(source.params, columns, ratios);
    std::vector<double> multipliers;
    for (float scale : reference.scales) {
      multipliers.push_back(static_cast<double>(a.params->scales[0]) * scale / static_cast<double>(output.params->scales[0]));
    }
    check_multipliers(multipliers);
    Value* bias_value = bias ? integer_bias(node, *bias, a.params->scales[0], reference, columns) : nullptr;
    const auto bounds = clamp_bounds(output);
    const std::string clamp_text = output.activation ? ", " + output.activation->op_type + " as the output clamp" : "";
    Tensor integers = source.integers;
    QuantParams params = source.params;
    if (transposed) {  // [N, K] -> [K, N]: the groups stay those of each column
      const int64_t rows = integers.dim(0), depth = integers.dim(1);
      Tensor swapped(integers.dtype(), {depth, rows});
      const size_t size = dtype_size(integers.dtype());
      const auto* from = static_cast<const std::byte*>(integers.raw_data());
      auto* to = static_cast<std::byte*>(swapped.raw_data());
      for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < depth; ++j) std::copy_n(from + (i * depth + j) * size, size, to + (j * rows + i) * size);
      }
      integers = std::move(swapped);
      params.axis = 1;
    }
    Value* right = add_initializer(node.input(1)->name + "_group_integers", std::move(integers), params);
    std::vector<Value*> inputs{a.integer, right};
    if (bias_value) inputs.push_back(bias_value);
    const std::string name = node.name;
    remove_group(node, output);
    remove_grouped_weight_nodes(source);
    Node* matmul = add_integer_node(ops::grouped_matmul, inputs, {output.integer}, name);
    matmul->attributes["a_zero_point"] = passes::integer_attribute(a.params->zero_point(0));
    matmul->attributes["group_size"] = passes::integer_attribute(source.params.group_size);
    matmul->attributes["group_ratios"] = floats_attribute(ratios);
    matmul->attributes["b_zero_points"] = passes::integers_attribute(group_zero_points(source.params));
    set_output_stage(matmul, multipliers, *output.params, bounds);
    return std::string(ops::grouped_matmul) + ", groups of " + std::to_string(source.params.group_size) + clamp_text;
  }

  // Gemm's transB weights [N, K] as [K, N], the layout of IntegerMatMul.
  Value* transposed_weights(const Value& weights) {
    const Tensor& data = *weights.initializer;
    const int64_t rows = data.dim(0), columns = data.dim(1);
    Tensor transposed(data.dtype(), {columns, rows});
    const size_t size = dtype_size(data.dtype());
    const auto* from = static_cast<const std::byte*>(data.raw_data());
    auto* to = static_cast<std::byte*>(transposed.raw_data());
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < columns; ++j) std::copy_n(from + (i * columns + j) * size, size, to + (j * rows + i) * size);
    }
    QuantParams params = *weights.quant;
    if (params.scales.size() != 1) params.axis = 1;
    return add_initializer(weights.name + "_transposed", std::move(transposed), params);
  }

  std::string lower_add(Node& node) {
    const Dequantized a = dequantized_input(node, 0, "input A");
    const Dequantized b = dequantized_input(node, 1, "input B");
    const QuantizedOutput output = quantized_output(node, true);
    require_per_tensor(*a.params, "input A");
    require_per_tensor(*b.params, "input B");
    constexpr int kLeftShift = 20;
    // TFLite's PrepareGeneralSubOp / add.cc: both inputs at twice the larger input scale, 20 bits of headroom.
    const double twice_max = 2.0 * static_cast<double>(std::max(a.params->scales[0], b.params->scales[0]));
    const std::vector<double> a_multiplier{static_cast<double>(a.params->scales[0]) / twice_max};
    const std::vector<double> b_multiplier{static_cast<double>(b.params->scales[0]) / twice_max};
    const std::vector<double> output_multiplier{twice_max / (static_cast<double>(1 << kLeftShift) * static_cast<double>(output.params->scales[0]))};
    check_multipliers(a_multiplier);
    check_multipliers(b_multiplier);
    check_multipliers(output_multiplier);
    const auto bounds = clamp_bounds(output);
    const std::string clamp_text = output.activation ? ", " + output.activation->op_type + " as the output clamp" : "";
    const std::string name = node.name;
    remove_group(node, output);
    Node* add = add_integer_node(ops::add, {a.integer, b.integer}, {output.integer}, name);
    add->attributes["a_zero_point"] = passes::integer_attribute(a.params->zero_point(0));
    add->attributes["b_zero_point"] = passes::integer_attribute(b.params->zero_point(0));
    add->attributes["left_shift"] = passes::integer_attribute(kLeftShift);
    add->attributes["a_multipliers"] = floats_attribute(a_multiplier);
    add->attributes["b_multipliers"] = floats_attribute(b_multiplier);
    set_output_stage(add, output_multiplier, *output.params, bounds);
    return std::string(ops::add) + clamp_text;
  }

  std::string lower_mul(Node& node) {
    const Dequantized a = dequantized_input(node, 0, "input A");
    const Dequantized b = dequantized_input(node, 1, "input B");
    const QuantizedOutput output = quantized_output(node, true);
    require_per_tensor(*a.params, "input A");
    require_per_tensor(*b.params, "input B");
    const std::vector<double> multiplier{static_cast<double>(a.params->scales[0]) * static_cast<double>(b.params->scales[0]) /
                                         static_cast<double>(output.params->scales[0])};
    check_multipliers(multiplier);
    const auto bounds = clamp_bounds(output);
    const std::string clamp_text = output.activation ? ", " + output.activation->op_type + " as the output clamp" : "";
    const std::string name = node.name;
    remove_group(node, output);
    Node* mul = add_integer_node(ops::mul, {a.integer, b.integer}, {output.integer}, name);
    mul->attributes["a_zero_point"] = passes::integer_attribute(a.params->zero_point(0));
    mul->attributes["b_zero_point"] = passes::integer_attribute(b.params->zero_point(0));
    set_output_stage(mul, multiplier, *output.params, bounds);
    return std::string(ops::mul) + clamp_text;
  }

  std::string lower_concat(Node& node) {
    std::vector<Dequantized> inputs;
    for (size_t i = 0; i < node.inputs.size(); ++i) inputs.push_back(dequantized_input(node, i, "an input"));
    const QuantizedOutput output = quantized_output(node, false);
    int rescaled = 0;
    for (const Dequantized& input : inputs) {
      require_per_tensor(*input.params, "input '" + input.integer->name + "'");
      if (!same_grid(*input.params, *output.params)) {
        check_multipliers({static_cast<double>(input.params->scales[0]) / static_cast<double>(output.params->scales[0])});
        ++rescaled;
      }
    }
    const std::string name = node.name;
    const auto attributes = node.attributes;
    remove_group(node, output);
    std::vector<Value*> integer_inputs;
    for (const Dequantized& input : inputs) {
      if (same_grid(*input.params, *output.params)) {
        integer_inputs.push_back(input.integer);
        continue;
      }
      Value* requantized = add_integer_value(input.integer->name + "_requantized", *output.params);
      add_requantize(input.integer, *input.params, requantized, *output.params, name + "_requantize_" + input.integer->name);
      integer_inputs.push_back(requantized);
    }
    Node* concat = graph_.add_node("Concat", integer_inputs, {output.integer}, name);
    concat->attributes = attributes;
    return "Concat on integers" + (rescaled ? ", " + std::to_string(rescaled) + " input(s) requantized to the output's scale" : std::string());
  }

  // The op's own output at the input's grid, then (when the Q after it has another grid) a requantize.
  Value* output_at_input_grid(const std::string& name, const Dequantized& input, const QuantizedOutput& output, bool& requantized) {
    requantized = !same_grid(*input.params, *output.params);
    if (!requantized) return output.integer;
    Value* value = add_integer_value(name + "_at_input_scale", *input.params);
    add_requantize(value, *input.params, output.integer, *output.params, name + "_requantize");
    return value;
  }

  std::string lower_data_movement(Node& node) {
    const Dequantized input = dequantized_input(node, 0, "the input");
    for (size_t i = 1; i < node.inputs.size(); ++i) {
      if (node.input(i) && !passes::constant_of(node.input(i))) throw Refusal{"a data input other than the first that is not a constant"};
    }
    if (node.op_type == "Resize" && node.get_string("mode", "nearest") != "nearest") throw Refusal{"Resize other than nearest"};
    const QuantizedOutput output = quantized_output(node, false);
    require_per_tensor(*input.params, "the input");
    if (!same_grid(*input.params, *output.params)) {
      check_multipliers({static_cast<double>(input.params->scales[0]) / static_cast<double>(output.params->scales[0])});
    }
    const std::string name = node.name, op_type = node.op_type;
    const auto attributes = node.attributes;
    std::vector<Value*> inputs(node.inputs.begin(), node.inputs.end());
    inputs[0] = input.integer;
    remove_group(node, output);
    bool requantized = false;
    Value* result = output_at_input_grid(name, input, output, requantized);
    Node* moved = graph_.add_node(op_type, inputs, {result}, name);
    moved->attributes = attributes;
    return op_type + " on integers" + (requantized ? ", then requantized to its output's scale" : "");
  }

  std::string lower_average_pool(Node& node) {
    const bool global = node.op_type == "GlobalAveragePool";
    const Dequantized input = dequantized_input(node, 0, "the input");
    const QuantizedOutput output = quantized_output(node, false);
    require_per_tensor(*input.params, "the input");
    if (!global) {
      if (node.get_int("ceil_mode", 0) != 0) throw Refusal{"ceil_mode 1"};
      if (node.get_string("auto_pad", "NOTSET") != "NOTSET") throw Refusal{"auto_pad (write explicit pads)"};
      if (node.get_ints("kernel_shape").size() != 2) throw Refusal{"only 2-D pooling has an integer kernel"};
      if (node.get_ints("dilations", {1, 1}) != std::vector<int64_t>{1, 1}) throw Refusal{"dilated pooling"};
    }
    if (!same_grid(*input.params, *output.params)) {
      check_multipliers({static_cast<double>(input.params->scales[0]) / static_cast<double>(output.params->scales[0])});
    }
    const std::string name = node.name;
    const std::vector<int64_t> kernel = global ? std::vector<int64_t>{} : node.get_ints("kernel_shape");
    const std::vector<int64_t> strides = node.get_ints("strides", {1, 1});
    const std::vector<int64_t> pads = node.get_ints("pads", {0, 0, 0, 0});
    const int64_t count_include_pad = node.get_int("count_include_pad", 0);
    remove_group(node, output);
    bool requantized = false;
    Value* result = output_at_input_grid(name, input, output, requantized);
    Node* pool = add_integer_node(ops::average_pool, {input.integer}, {result}, name);
    pool->attributes["kernel_shape"] = passes::integers_attribute(kernel);
    pool->attributes["strides"] = passes::integers_attribute(strides);
    pool->attributes["pads"] = passes::integers_attribute(pads);
    pool->attributes["count_include_pad"] = passes::integer_attribute(count_include_pad);
    pool->attributes["output_min"] = passes::integer_attribute(input.params->storage_min());
    pool->attributes["output_max"] = passes::integer_attribute(input.params->storage_max());
    return std::string(ops::average_pool) + (requantized ? ", then requantized to its output's scale" : "");
  }

  std::string lower_lookup_table(Node& node) {
    const std::vector<std::string>& tables = spec_.lookup_table_ops.value;
    if (std::find(tables.begin(), tables.end(), node.op_type) == tables.end()) {
      throw Refusal{node.op_type + " is not in the target's lookup_table_ops: how it computes it is not known"};
    }
    const Dequantized input = dequantized_input(node, 0, "the input");
    const QuantizedOutput output = quantized_output(node, false);
    require_per_tensor(*input.params, "the input");
    if (input.params->storage_max() - input.params->storage_min() > 65535) throw Refusal{"a lookup table over a grid wider than 16 bits"};
    const auto function = runtime::integer::lookup_function(node.op_type, node.get_float("alpha", 0.2), node.get_float("beta", 0.5));
    runtime::integer::GridParameters from{input.params->scales[0], static_cast<int32_t>(input.params->zero_point(0)),
                                          static_cast<int32_t>(input.params->storage_min()), static_cast<int32_t>(input.params->storage_max())};
    runtime::integer::GridParameters to{output.params->scales[0], static_cast<int32_t>(output.params->zero_point(0)),
                                        static_cast<int32_t>(output.params->storage_min()), static_cast<int32_t>(output.params->storage_max())};
    const runtime::integer::LookupTable table = runtime::integer::build_lookup_table(
        function, from, to, output.params->storage, spec_.quantize_rounding.value);
    const std::string name = node.name, op_type = node.op_type;
    remove_group(node, output);
    Node* lookup = add_integer_node(ops::lookup_table, {input.integer}, {output.integer}, name);
    lookup->attributes["input_minimum"] = passes::integer_attribute(table.input_minimum);
    lookup->attributes["table"] = passes::integers_attribute(std::vector<int64_t>(table.values.begin(), table.values.end()));
    lookup->attributes["function"] = passes::string_attribute(op_type);
    return std::string(ops::lookup_table) + " of " + std::to_string(table.values.size()) + " entries";
  }

  std::string lower_input_quantize(Node& node) {
    Value* output = node.output(0);
    if (!output || !output->quant) throw Refusal{"its parameters are not constants"};
    const QuantParams& params = *output->quant;
    require_per_tensor(params, "the graph input");
    const std::string name = node.name;
    Value* input = node.input(0);
    record_source(node);
    removed_.insert(&node);
    graph_.remove_node(&node);
    Node* quantize = add_integer_node(ops::quantize, {input}, {output}, name);
    quantize->attributes["scale"] = passes::float_attribute(params.scales[0]);
    quantize->attributes["zero_point"] = passes::integer_attribute(params.zero_point(0));
    quantize->attributes["output_min"] = passes::integer_attribute(params.storage_min());
    quantize->attributes["output_max"] = passes::integer_attribute(params.storage_max());
    quantize->attributes["rounding"] = passes::string_attribute(std::string(ir::rounding_mode_name(spec_.quantize_rounding.value)));
    quantize->attributes["clamp_order"] = passes::string_attribute(std::string(ir::clamp_order_name(spec_.clamp_order.value)));
    return std::string(ops::quantize) + ", rounding " + std::string(ir::rounding_mode_name(spec_.quantize_rounding.value));
  }

  // Ops that move integers without arithmetic: exact on the grid, so they run on it as ONNX defines them.
  inline static const std::set<std::string> kDataMovementOps{"MaxPool", "Reshape", "Transpose", "Flatten", "Squeeze",
                                                             "Unsqueeze", "Slice", "Resize", "SpaceToDepth",
                                                             "DepthToSpace", "Identity"};

  ir::Model& model_;
  ir::Graph& graph_;
  const targets::NumericsSpec& spec_;
  LoweringReport report_;
  std::set<const Node*> removed_;
  std::map<const Node*, std::string> refused_;
};

}  // namespace

LoweringReport lower_to_integer(ir::Model& model, const targets::NumericsSpec& spec, const std::string& target_name) {
  if (!spec.present) {
    throw Error(ErrorKind::invalid_argument,
                "target '" + target_name + "' has no numerics section: the sim backend needs the target's integer "
                "arithmetic (add a `numerics` section, see docs/targets.md, or choose a built-in target such as edgetpu)");
  }
  return Lowering(model, spec).run();
}

}  // namespace npukit::sim
