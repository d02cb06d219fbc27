#include "passes/decompose_gelu.h"

#include "passes/graph_editing.h"

namespace npukit::passes {

PassResult decompose_gelu(ir::Model& model, const NodeFilter& filter) {
  PassResult result;
  result.pass = "decompose-gelu";
  ir::Graph& graph = *model.graph;
  std::vector<ir::Node*> gelus;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "Gelu" && node->domain.empty() && filter(*node)) gelus.push_back(node.get());
  }
  for (ir::Node* gelu : gelus) {
    ir::Value* x = gelu->input(0);
    ir::Value* y = gelu->output(0);
    const std::string name = gelu->name.empty() ? "gelu" : gelu->name;
    const std::string approximate = gelu->get_string("approximate", "none");
    if (approximate != "none" && approximate != "tanh") {
      result.notes.push_back("Gelu '" + name + "' left as is: approximate '" + approximate + "' is not defined");
      continue;
    }
    if (x->type.dtype != DType::f32) {
      result.notes.push_back("Gelu '" + name + "' left as is: the decomposition writes float32 constants");
      continue;
    }
    graph.remove_node(gelu);
    const ir::TensorType type = y->type;
    int counter = 0;
    auto value = [&]() { return graph.add_value(unused_value_name(graph, name + ".t" + std::to_string(counter++)), type); };
    auto scalar = [&](float number) { return add_float_constant(graph, name + ".c", {}, {number}); };
    auto node = [&](const std::string& op, std::vector<ir::Value*> inputs, ir::Value* output) {
      graph.add_node(op, std::move(inputs), {output}, name + "." + op + std::to_string(counter));
      return output;
    };
    ir::Value* gate_input;
    std::string ops;
    if (approximate == "none") {
      ir::Value* scaled = node("Mul", {x, scalar(0.70710678118654752f)}, value());
      gate_input = node("Erf", {scaled}, value());
      ops = "Mul, Erf, Add";
    } else {
      ir::Value* square = node("Mul", {x, x}, value());
      ir::Value* cube = node("Mul", {square, x}, value());
      ir::Value* term = node("Mul", {cube, scalar(0.044715f)}, value());
      ir::Value* inner = node("Add", {x, term}, value());
      ir::Value* scaled = node("Mul", {inner, scalar(0.79788456080286535588f)}, value());
      gate_input = node("Tanh", {scaled}, value());
      ops = "Mul, Add, Tanh";
    }
    ir::Value* one_plus = node("Add", {gate_input, scalar(1.0f)}, value());
    ir::Value* product = node("Mul", {x, one_plus}, value());
    node("Mul", {product, scalar(0.5f)}, y);
    result.notes.push_back("Gelu '" + name + "' (" + approximate + ") → " + ops);
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
