#include "passes/pow_to_mul.h"

#include <string>

#include "passes/graph_editing.h"

namespace npukit::passes {

std::optional<double> rewritable_pow_exponent(const ir::Node& node) {
  if (node.op_type != "Pow" || !node.domain.empty()) return std::nullopt;
  const ir::Value* base = node.input(0);
  if (!base || base->type.dtype != DType::f32 || !base->type.shape) return std::nullopt;
  const Tensor* exponent = constant_of(node.input(1));
  if (!exponent || exponent->element_count() != 1 ||
      static_cast<size_t>(exponent->rank()) > base->type.shape->size()) {
    return std::nullopt;
  }
  const double value = exponent->value_as_double(0);
  if (value == 1.0 || value == 2.0 || value == 3.0 || value == 0.5) return value;
  return std::nullopt;
}

PassResult pow_to_mul(ir::Model& model, bool allow_sqrt, const NodeFilter& filter) {
  PassResult result;
  result.pass = "pow-to-mul";
  ir::Graph& graph = *model.graph;
  std::vector<ir::Node*> powers;
  for (const auto& node : graph.nodes()) {
    if (node->op_type != "Pow" || !filter(*node)) continue;
    std::optional<double> exponent = rewritable_pow_exponent(*node);
    if (!exponent) continue;
    if (*exponent == 0.5 && !allow_sqrt) {
      result.notes.push_back("Pow " + node->describe() + " kept: x^0.5 needs Sqrt, which the target does not list");
      continue;
    }
    powers.push_back(node.get());
  }
  for (ir::Node* power : powers) {
    const double exponent = *rewritable_pow_exponent(*power);
    const std::string name = power->name.empty() ? "pow" : power->name;
    ir::Value* x = power->input(0);
    ir::Value* y = power->output(0);
    graph.remove_node(power);
    std::string written;
    if (exponent == 1.0) {
      graph.add_node("Identity", {x}, {y}, name);
      written = "Identity";
    } else if (exponent == 2.0) {
      graph.add_node("Mul", {x, x}, {y}, name);
      written = "x · x";
    } else if (exponent == 3.0) {
      ir::Value* square = graph.add_value(unused_value_name(graph, name + ".square"), x->type);
      graph.add_node("Mul", {x, x}, {square}, name + ".square");
      graph.add_node("Mul", {square, x}, {y}, name);
      written = "(x · x) · x";
    } else {
      graph.add_node("Sqrt", {x}, {y}, name);
      written = "Sqrt(x)";
    }
    result.notes.push_back("Pow '" + name + "' → " + written);
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
