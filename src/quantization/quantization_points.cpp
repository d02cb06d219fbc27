#include "quantization/quantization_points.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "npukit/error.h"
#include "passes/layernorm_pattern.h"
#include "quantization/sixteen_bit_layers.h"

namespace npukit::quantization {

namespace {

using targets::StorageGrid;

// Ops every target in our profiles runs on its integer grid, whatever its spec lists besides.
const std::set<std::string> kAlwaysIntegerOps = {"Conv",      "ConvTranspose", "Gemm", "MatMul", "AveragePool",
                                                 "GlobalAveragePool", "MaxPool", "GlobalMaxPool", "Relu",
                                                 "Clip",      "Concat",        "Resize"};

// Ops whose weight (input 1) is quantized, and the axis of its output channels.
std::optional<int64_t> weight_channel_axis(const ir::Node& node, const ir::Value& weight) {
  const int64_t rank = weight.initializer ? static_cast<int64_t>(weight.initializer->rank()) : 0;
  if (node.op_type == "Conv") return 0;
  if (node.op_type == "ConvTranspose") return 1;
  if (node.op_type == "Gemm") return node.get_int("transB", 0) != 0 ? 0 : 1;
  if (node.op_type == "MatMul" && rank >= 2) return rank - 1;
  return std::nullopt;
}

bool is_float_value(const ir::Value* value) {
  if (!value || value->name.empty()) return false;
  const DType dtype = value->initializer ? value->initializer->dtype() : value->type.dtype;
  return dtype == DType::f32;
}

class Planner {
 public:
  Planner(const ir::Graph& graph, const targets::NumericsSpec& spec, const QuantizationSettings& settings)
      : graph_(graph), spec_(spec), settings_(settings) {}

  QuantizationPlan run() {
    if (!spec_.present) {
      throw Error(ErrorKind::invalid_argument,
                  "the target profile has no 'numerics' section: npukit cannot know its grids; give a profile with "
                  "one (--target-file, schema in docs/targets.md)");
    }
    collect_integer_ops();
    check_exclusions();
    mark_layernorms();
    mark_fusion_groups();
    place_activations();
    place_weights_and_biases();
    if (!settings_.sixteen_bit_nodes.empty()) widen_to_sixteen_bits(graph_, settings_.sixteen_bit_nodes, plan_);
    return std::move(plan_);
  }

 private:
  void collect_integer_ops() {
    integer_ops_ = kAlwaysIntegerOps;
    for (const auto* list : {&spec_.requantizing_ops.value, &spec_.lookup_table_ops.value, &spec_.fused_activations.value,
                             &spec_.shared_scale_ops.value}) {
      integer_ops_.insert(list->begin(), list->end());
    }
    shared_scale_ops_.insert(spec_.shared_scale_ops.value.begin(), spec_.shared_scale_ops.value.end());
  }

  void check_exclusions() {
    for (const std::string& entry : settings_.exclude) {
      bool found = false;
      for (const auto& node : graph_.nodes()) found = found || node->name == entry || node->op_type == entry;
      if (!found) {
        throw Error(ErrorKind::invalid_argument, "--exclude '" + entry + "' names no node and no op type of the model; "
                                                 "give a node name (npukit inspect lists them) or an op type such as Conv");
      }
    }
  }

  bool excluded(const ir::Node& node) const {
    return std::find_if(settings_.exclude.begin(), settings_.exclude.end(), [&](const std::string& entry) {
             return entry == node.name || entry == node.op_type;
           }) != settings_.exclude.end();
  }

  void mark_layernorms() {
    for (const passes::WrittenLayerNorm& layernorm : passes::find_written_layernorms(graph_)) {
      for (const ir::Node* node : layernorm.nodes) {
        float_reason_[node] = "inside a written-out LayerNorm (the target runs it as one layer)";
        for (const ir::Value* output : node->outputs) {
          if (output && output != layernorm.output) interior_.insert(output);
        }
      }
    }
  }

  // Values between the ops of a fusion group: the target never writes them, so they get no point.
  void mark_fusion_groups() {
    for (const std::vector<std::string>& group : spec_.fusion_groups.value) {
      if (group.size() < 2) continue;
      for (const auto& node : graph_.nodes()) {
        if (node->op_type != group[0]) continue;
        std::vector<const ir::Value*> inside;
        const ir::Node* current = node.get();
        size_t matched = 1;
        for (; matched < group.size(); ++matched) {
          const ir::Value* output = current->output(0);
          if (!output || output->is_graph_output || output->consumers.size() != 1) break;
          const ir::Node* next = output->consumers[0];
          if (next->op_type != group[matched]) break;
          inside.push_back(output);
          current = next;
        }
        // An excluded member runs in float: the target cannot run the group as one layer then.
        if (matched == group.size() && !group_has_excluded_node(*node, group.size())) {
          interior_.insert(inside.begin(), inside.end());
        }
      }
    }
  }

  bool group_has_excluded_node(const ir::Node& first, size_t length) const {
    const ir::Node* current = &first;
    for (size_t index = 0; index < length; ++index) {
      if (excluded(*current)) return true;
      if (index + 1 < length) current = current->output(0)->consumers[0];
    }
    return false;
  }

  bool is_integer(const ir::Node& node) const {
    return node.domain.empty() && integer_ops_.count(node.op_type) && !excluded(node) && !float_reason_.count(&node);
  }

  // Ops that only move or select elements: their output lives on their input's grid.
  bool shares_scale(const ir::Node& node) const {
    if (shared_scale_ops_.count(node.op_type)) return true;
    return node.op_type == "Resize" && node.get_string("mode", "nearest") == "nearest";
  }

  // The inputs that carry data through a shared-scale op (not shapes, pads or indices).
  std::vector<const ir::Value*> data_inputs(const ir::Node& node) const {
    if (node.op_type == "Concat") return {node.inputs.begin(), node.inputs.end()};
    return {node.input(0)};
  }

  bool read_by_computing_integer_op(const ir::Value& value) const {
    return std::any_of(value.consumers.begin(), value.consumers.end(),
                       [&](const ir::Node* consumer) { return is_integer(*consumer) && !shares_scale(*consumer); });
  }

  GridChoice activation_grid() const {
    return grid_of(settings_.activations.value_or(spec_.activations.storage.value));
  }

  void add_activation(const ir::Value& value, const ir::Node* producer, const std::string& group) {
    PlannedPoint point;
    point.value = value.name;
    point.role = PointRole::activation;
    point.node = producer ? producer->name : "";
    point.op_type = producer ? producer->op_type : "input";
    const GridChoice grid = activation_grid();
    point.storage = grid.storage;
    point.narrow_range = grid.narrow_range;
    point.symmetric = spec_.activations.symmetric.value;
    point.scale_group = group.empty() ? value.name : group;
    group_of_[&value] = point.scale_group;
    plan_.points.push_back(std::move(point));
  }

  // The group a new member joins; when several groups meet (Concat of two groups) they become one.
  std::string merge_groups(const std::vector<const ir::Value*>& members) {
    std::string target = group_of_.at(members[0]);
    for (const ir::Value* member : members) {
      const std::string other = group_of_.at(member);
      if (other == target) continue;
      for (PlannedPoint& point : plan_.points) {
        if (point.role == PointRole::activation && point.scale_group == other) point.scale_group = target;
      }
      for (auto& [value, group] : group_of_) {
        if (group == other) group = target;
      }
    }
    return target;
  }

  void place_activations() {
    for (const ir::Value* input : graph_.inputs) {
      if (is_float_value(input) && !input->initializer && read_by_computing_integer_op(*input)) add_activation(*input, nullptr, "");
    }
    for (const auto& owned : graph_.nodes()) {
      const ir::Node& node = *owned;
      if (!node.domain.empty() || !integer_ops_.count(node.op_type)) {
        if (!float_reason_.count(&node)) {
          float_reason_[&node] = node.domain.empty() ? "no integer form in the target's spec" : "not an ONNX op";
        }
      } else if (excluded(node)) {
        float_reason_[&node] = "excluded by --exclude";
      }
      const bool integer = is_integer(node);
      std::vector<const ir::Value*> inputs_on_grid;
      bool all_inputs_on_grid = integer && shares_scale(node);
      if (all_inputs_on_grid) {
        for (const ir::Value* input : data_inputs(node)) {
          if (!input || !group_of_.count(input)) all_inputs_on_grid = false;
          else inputs_on_grid.push_back(input);
        }
      }
      for (const ir::Value* output : node.outputs) {
        if (!is_float_value(output) || output->initializer || interior_.count(output)) continue;
        if (integer && shares_scale(node)) {
          if (all_inputs_on_grid && !inputs_on_grid.empty()) {
            add_activation(*output, &node, merge_groups(inputs_on_grid));
            continue;
          }
        } else if (integer) {
          add_activation(*output, &node, "");
          continue;
        }
        if (read_by_computing_integer_op(*output)) add_activation(*output, &node, "");
      }
    }
    for (const auto& owned : graph_.nodes()) {
      auto reason = float_reason_.find(owned.get());
      if (reason != float_reason_.end()) plan_.float_nodes.push_back({owned->name, owned->op_type, reason->second});
    }
  }

  // Per group when asked: the group size, or 0 for per channel (a channel no longer than one group, or a weight
  // whose layout has no per-group form here), with the reason noted once per weight.
  int64_t weight_group_size(const ir::Node& node, const ir::Value& weight, int64_t axis, int64_t group_size) {
    if (group_size <= 0) return 0;
    const Shape& shape = weight.initializer->shape();
    if (node.op_type == "ConvTranspose" || (node.op_type == "MatMul" && shape.size() != 2)) {
      plan_.notes.push_back("weight '" + weight.name + "' (" + node.op_type + " '" + node.name + "'): per channel, not "
                            "per group: groups are written for Conv, Gemm and 2-D MatMul weights only");
      return 0;
    }
    const int64_t channels = shape.at(static_cast<size_t>(axis));
    const int64_t inputs = channels > 0 ? weight.initializer->element_count() / channels : 0;
    if (inputs <= group_size) {
      ++single_group_weights_;
      return 0;
    }
    return group_size;
  }

  // The inputs that meet in one output of a weight whose output channels lie along `axis` (Conv [M, C/g, KH, KW]:
  // C/g x KH x KW; MatMul [K, N]: K).
  static int64_t inputs_per_output(const ir::Value& weight, int64_t axis) {
    const int64_t channels = weight.initializer->shape().at(static_cast<size_t>(axis));
    return channels > 0 ? weight.initializer->element_count() / channels : 0;
  }

  // "91.2%" of part / whole.
  static std::string format_percent(int64_t part, int64_t whole) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
    return text;
  }

  void place_weights_and_biases() {
    const StorageGrid weight_storage = settings_.weights.value_or(spec_.weights.storage.value);
    const GridChoice weight_grid = grid_of(weight_storage);
    if (settings_.per_tensor && settings_.group_size > 0) {
      throw Error(ErrorKind::invalid_argument, "--per-tensor and --group-size contradict each other: give one of them");
    }
    ir::QuantGranularity granularity =
        settings_.per_tensor ? ir::QuantGranularity::per_tensor : spec_.weights.granularity.value;
    int64_t group_size = granularity == ir::QuantGranularity::per_group ? spec_.weights.group_size.value : 0;
    if (settings_.group_size > 0) {
      granularity = ir::QuantGranularity::per_group;
      group_size = settings_.group_size;
    }
    // The short-dot-product rule for 4-bit weights: the grid the short layers keep (the spec's own when it is an
    // 8-bit one, else int8) and the threshold.
    const bool four_bits = weight_storage == StorageGrid::int4 || weight_storage == StorageGrid::uint4;
    const StorageGrid spec_storage = spec_.weights.storage.value;
    const GridChoice eight_bit_grid =
        grid_of(spec_storage == StorageGrid::int4 || spec_storage == StorageGrid::uint4 ||
                        spec_storage == StorageGrid::int16 || spec_storage == StorageGrid::uint16
                    ? StorageGrid::int8
                    : spec_storage);
    const int64_t minimum_inputs =
        settings_.int4_minimum_inputs < 0 ? kDefaultInt4MinimumInputs : settings_.int4_minimum_inputs;
    std::vector<std::string> kept_eight_bits;
    int64_t eight_bit_weights = 0, all_weights = 0;
    std::set<std::string> planned;
    std::vector<PlannedPoint> biases;
    for (const auto& owned : graph_.nodes()) {
      const ir::Node& node = *owned;
      if (!is_integer(node)) continue;
      const ir::Value* weight = node.input(1);
      if (!weight || !weight->initializer || !is_float_value(weight)) continue;
      const std::optional<int64_t> axis = weight_channel_axis(node, *weight);
      if (!axis) continue;
      if (planned.insert(weight->name).second) {
        PlannedPoint point;
        point.value = weight->name;
        point.role = PointRole::weight;
        point.node = node.name;
        point.op_type = node.op_type;
        point.storage = weight_grid.storage;
        point.narrow_range = weight_grid.narrow_range;
        point.symmetric = spec_.weights.symmetric.value;
        point.axis = granularity == ir::QuantGranularity::per_tensor ? -1 : *axis;
        const int64_t inputs = inputs_per_output(*weight, *axis);
        if (four_bits && inputs < minimum_inputs) {
          // The short-dot-product rule (quantization_points.h): this weight keeps the 8-bit grid.
          point.storage = eight_bit_grid.storage;
          point.narrow_range = eight_bit_grid.narrow_range;
          point.precision_reason = "8 bits: " + std::to_string(inputs) +
                                   " inputs per output < --int4-min-inputs " + std::to_string(minimum_inputs);
          kept_eight_bits.push_back(node.name + " (" + std::to_string(inputs) + ")");
          eight_bit_weights += weight->initializer->element_count();
        }
        all_weights += weight->initializer->element_count();
        if (granularity == ir::QuantGranularity::per_group) point.group_size = weight_group_size(node, *weight, *axis, group_size);
        plan_.points.push_back(std::move(point));
      }
      const ir::Value* bias = node.input(2);
      const ir::Value* input = node.input(0);
      if (node.op_type == "MatMul" || !bias || !bias->initializer || !is_float_value(bias)) continue;
      if (bias->initializer->rank() != 1 || !input || !group_of_.count(input)) continue;
      if (planned.count(bias->name)) continue;
      planned.insert(bias->name);
      PlannedPoint point;
      point.value = bias->name;
      point.role = PointRole::bias;
      point.node = node.name;
      point.op_type = node.op_type;
      point.storage = grid_of(spec_.bias_storage.value).storage;
      point.symmetric = true;
      point.axis = 0;
      point.bias_input = input->name;
      point.bias_weight = weight->name;
      biases.push_back(std::move(point));
    }
    plan_.points.insert(plan_.points.end(), biases.begin(), biases.end());
    if (four_bits && all_weights > 0) {
      std::string note = "4-bit weights on " +
                         format_percent(all_weights - eight_bit_weights, all_weights) + " of the quantized weights (" +
                         std::to_string(all_weights - eight_bit_weights) + " of " + std::to_string(all_weights) + ")";
      if (minimum_inputs == 0) {
        note += "; --int4-min-inputs 0: every weight on 4 bits";
      } else if (kept_eight_bits.empty()) {
        note += "; no weight has fewer than " + std::to_string(minimum_inputs) + " inputs per output";
      } else {
        note += "; " + std::to_string(kept_eight_bits.size()) + " weight(s) kept on 8 bits because they have fewer than " +
                std::to_string(minimum_inputs) + " inputs per output (--int4-min-inputs " +
                std::to_string(minimum_inputs) + ", 0 turns it off): ";
        for (size_t index = 0; index < kept_eight_bits.size(); ++index) note += (index ? ", " : "") + kept_eight_bits[index];
      }
      plan_.notes.push_back(note);
    }
    if (single_group_weights_ > 0) {
      plan_.notes.push_back(std::to_string(single_group_weights_) + " weight(s) have at most " + std::to_string(group_size) +
                            " inputs per output channel: one group each, which is per channel");
    }
  }

  const ir::Graph& graph_;
  const targets::NumericsSpec& spec_;
  const QuantizationSettings& settings_;
  std::set<std::string> integer_ops_;
  std::set<std::string> shared_scale_ops_;
  std::set<const ir::Value*> interior_;
  std::map<const ir::Node*, std::string> float_reason_;
  std::map<const ir::Value*, std::string> group_of_;
  int single_group_weights_ = 0;
  QuantizationPlan plan_;
};

}  // namespace

std::string_view point_role_name(PointRole role) {
  switch (role) {
    case PointRole::activation: return "activation";
    case PointRole::weight: return "weight";
    case PointRole::bias: return "bias";
  }
  return "?";
}

std::vector<std::string> QuantizationPlan::calibrated_values() const {
  std::vector<std::string> values;
  for (const PlannedPoint& point : points) {
    if (point.role == PointRole::activation) values.push_back(point.value);
  }
  return values;
}

const PlannedPoint* QuantizationPlan::find(const std::string& value) const {
  for (const PlannedPoint& point : points) {
    if (point.value == value) return &point;
  }
  return nullptr;
}

GridChoice grid_of(StorageGrid grid) { return {targets::storage_dtype(grid), targets::storage_is_narrow(grid)}; }

StorageGrid parse_storage_grid(const std::string& text, const std::string& option) {
  static const std::map<std::string, StorageGrid> kChoices = {
      {"int8", StorageGrid::int8}, {"uint8", StorageGrid::uint8}, {"int16", StorageGrid::int16}};
  if (text == "int4" && option == "--weights") return StorageGrid::int4;
  auto found = kChoices.find(text);
  if (found == kChoices.end()) {
    throw Error(ErrorKind::invalid_argument, option + " '" + text + "': give int8, uint8" +
                                                 (option == "--weights" ? ", int16 or int4" : " or int16"));
  }
  return found->second;
}

QuantizationPlan plan_quantization_points(const ir::Graph& graph, const targets::NumericsSpec& spec,
                                          const QuantizationSettings& settings) {
  return Planner(graph, spec, settings).run();
}

}  // namespace npukit::quantization
