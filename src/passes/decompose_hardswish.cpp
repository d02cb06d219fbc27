#include "passes/decompose_hardswish.h"

#include "passes/graph_editing.h"

namespace npukit::passes {

PassResult decompose_hardswish(ir::Model& model, const NodeFilter& filter) {
  PassResult result;
  result.pass = "decompose-hardswish";
  ir::Graph& graph = *model.graph;
  std::vector<ir::Node*> targets;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "HardSwish" && node->domain.empty() && filter(*node)) targets.push_back(node.get());
  }
  for (ir::Node* hardswish : targets) {
    ir::Value* x = hardswish->input(0);
    ir::Value* y = hardswish->output(0);
    const std::string name = hardswish->name.empty() ? "hardswish" : hardswish->name;
    graph.remove_node(hardswish);
    ir::TensorType gate_type = y->type;
    ir::Value* gate = graph.add_value(unused_value_name(graph, name + ".gate"), gate_type);
    ir::Node* sigmoid = graph.add_node("HardSigmoid", {x}, {gate}, name + ".hardsigmoid");
    sigmoid->attributes["alpha"] = float_attribute(1.0 / 6.0);
    sigmoid->attributes["beta"] = float_attribute(0.5);
    graph.add_node("Mul", {x, gate}, {y}, name + ".mul");
    result.notes.push_back("HardSwish '" + name + "' → HardSigmoid + Mul");
    ++result.rewrites;
  }
  if (result.rewrites) {
    graph.sort_topologically();
    graph.renumber();
  }
  return result;
}

}  // namespace npukit::passes
