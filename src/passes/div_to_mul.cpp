#include "passes/div_to_mul.h"

#include <cmath>
#include <sstream>
#include <string>

#include "passes/graph_editing.h"

namespace npukit::passes {

namespace {

bool is_power_of_two(float value) {
  int exponent = 0;
  return std::frexp(std::fabs(value), &exponent) == 0.5f;
}

std::string shortest(float value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

}  // namespace

std::optional<std::vector<float>> constant_divisor_reciprocals(const ir::Node& node) {
  if (node.op_type != "Div" || !node.domain.empty() || !node.input(0) || node.input(0)->type.dtype != DType::f32) {
    return std::nullopt;
  }
  const Tensor* divisor = constant_of(node.input(1));
  if (!divisor || divisor->dtype() != DType::f32) return std::nullopt;
  std::vector<float> reciprocals(static_cast<size_t>(divisor->element_count()));
  for (int64_t i = 0; i < divisor->element_count(); ++i) {
    const float reciprocal = 1.0f / divisor->data<float>()[i];
    if (!std::isnormal(reciprocal)) return std::nullopt;
    reciprocals[static_cast<size_t>(i)] = reciprocal;
  }
  return reciprocals;
}

PassResult div_to_mul(ir::Model& model, const NodeFilter& filter) {
  PassResult result;
  result.pass = "div-to-mul";
  ir::Graph& graph = *model.graph;
  std::vector<ir::Node*> divisions;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "Div" && filter(*node) && constant_divisor_reciprocals(*node)) divisions.push_back(node.get());
  }
  for (ir::Node* division : divisions) {
    const std::vector<float> reciprocals = *constant_divisor_reciprocals(*division);
    const Tensor& divisor = *constant_of(division->input(1));
    bool exact = true;
    for (int64_t i = 0; i < divisor.element_count(); ++i) exact = exact && is_power_of_two(divisor.data<float>()[i]);
    const std::string name = division->name.empty() ? "div" : division->name;
    // A new initializer: the divisor may be shared with other nodes.
    ir::Value* reciprocal = add_float_constant(graph, name + ".reciprocal", divisor.shape(), reciprocals);
    ir::Value* x = division->input(0);
    ir::Value* y = division->output(0);
    graph.remove_node(division);
    graph.add_node("Mul", {x, reciprocal}, {y}, name);
    const std::string shown = divisor.element_count() == 1 ? shortest(divisor.data<float>()[0])
                                                           : std::to_string(divisor.element_count()) + " constants";
    result.notes.push_back("Div '" + name + "' by " + shown + " → Mul by the reciprocal" +
                           (exact ? " (exact: powers of two)" : " (within 1 ulp of the division)"));
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
