#include "quantization/full_range_values.h"

#include <vector>

namespace npukit::quantization {

namespace {

// Ops after which the largest element still decides (Softmax, ArgMax) or that only move elements.
bool passes_the_extremes_through(const std::string& op_type) {
  static const std::set<std::string> kOps = {"Softmax", "LogSoftmax", "ArgMax",    "ArgMin",  "Reshape",
                                             "Transpose", "Flatten",  "Squeeze",   "Unsqueeze", "Identity"};
  return kOps.count(op_type) > 0;
}

// Add / Sub / Mul / Div with a constant operand (a bias, a scale) keeps the order of the elements it shifts or
// scales: the input that carries the data, or null.
const ir::Value* data_input_of_constant_arithmetic(const ir::Node& node) {
  static const std::set<std::string> kOps = {"Add", "Sub", "Mul", "Div"};
  if (!kOps.count(node.op_type) || node.inputs.size() != 2 || !node.input(0) || !node.input(1)) return nullptr;
  const bool first_constant = node.input(0)->initializer.has_value();
  const bool second_constant = node.input(1)->initializer.has_value();
  if (first_constant == second_constant) return nullptr;
  if (node.op_type == "Div" && first_constant) return nullptr;  // c / x reverses the order
  return first_constant ? node.input(1) : node.input(0);
}

}  // namespace

std::set<std::string> values_kept_at_full_range(const ir::Graph& graph, const QuantizationPlan& plan) {
  std::set<std::string> activation_points;
  for (const PlannedPoint& point : plan.points) {
    if (point.role == PointRole::activation) activation_points.insert(point.value);
  }
  std::set<std::string> kept;
  std::set<const ir::Value*> visited;
  std::vector<const ir::Value*> pending(graph.outputs.begin(), graph.outputs.end());
  while (!pending.empty()) {
    const ir::Value* value = pending.back();
    pending.pop_back();
    if (!value || !visited.insert(value).second) continue;
    if (activation_points.count(value->name)) kept.insert(value->name);
    const ir::Node* producer = value->producer;
    if (!producer || !producer->domain.empty()) continue;
    if (passes_the_extremes_through(producer->op_type)) {
      pending.push_back(producer->input(0));
    } else if (const ir::Value* data = data_input_of_constant_arithmetic(*producer)) {
      pending.push_back(data);
    }
  }
  return kept;
}

}  // namespace npukit::quantization
