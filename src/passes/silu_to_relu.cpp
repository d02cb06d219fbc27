#include "passes/silu_to_relu.h"

#include "passes/graph_editing.h"

namespace npukit::passes {

PassResult silu_to_relu(ir::Model& model, const NodeFilter& filter) {
  PassResult result;
  result.pass = "silu-to-relu";
  result.changes_meaning = true;
  ir::Graph& graph = *model.graph;
  std::vector<ir::Node*> products;
  for (const auto& node : graph.nodes()) {
    if (node->op_type != "Mul" || node->inputs.size() != 2 || !filter(*node)) continue;
    for (int side = 0; side < 2; ++side) {
      ir::Value* gate = node->input(side);
      ir::Value* x = node->input(1 - side);
      if (gate && gate->producer && gate->producer->op_type == "Sigmoid" && gate->producer->input(0) == x &&
          gate->consumers.size() == 1 && !gate->is_graph_output) {
        products.push_back(node.get());
        break;
      }
    }
  }
  for (ir::Node* product : products) {
    ir::Value* gate = product->input(0)->producer && product->input(0)->producer->op_type == "Sigmoid" &&
                              product->input(0)->producer->input(0) == product->input(1)
                          ? product->input(0) : product->input(1);
    ir::Value* x = gate->producer->input(0);
    ir::Value* y = product->output(0);
    const std::string name = product->name;
    graph.remove_node(product);
    graph.add_node("Relu", {x}, {y}, name.empty() ? "" : name + ".relu");
    result.notes.push_back("SiLU at '" + name + "' → ReLU (needs retraining)");
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
