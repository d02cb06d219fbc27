#include "passes/decompose_softmax.h"

#include "passes/graph_editing.h"

namespace npukit::passes {

PassResult decompose_softmax(ir::Model& model, const NodeFilter& filter) {
  PassResult result;
  result.pass = "decompose-softmax";
  ir::Graph& graph = *model.graph;
  const int64_t opset = model.opset();
  std::vector<ir::Node*> softmaxes;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "Softmax" && node->domain.empty() && filter(*node)) softmaxes.push_back(node.get());
  }
  for (ir::Node* softmax : softmaxes) {
    ir::Value* x = softmax->input(0);
    ir::Value* y = softmax->output(0);
    const std::string name = softmax->name.empty() ? "softmax" : softmax->name;
    auto dims = static_dims_of(x);
    if (!dims || dims->empty()) {
      result.notes.push_back("Softmax '" + name + "' left as is: its input shape is not static");
      continue;
    }
    const auto rank = static_cast<int64_t>(dims->size());
    int64_t axis = softmax->get_int("axis", opset >= 13 ? -1 : 1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) continue;
    if (opset < 13 && axis != rank - 1) {
      result.notes.push_back("Softmax '" + name + "' left as is: before opset 13 it flattens the axes from " +
                             std::to_string(axis) + " on, which one reduction does not compute");
      continue;
    }
    graph.remove_node(softmax);
    std::vector<int64_t> reduced = *dims;
    reduced[static_cast<size_t>(axis)] = 1;
    const DType dtype = x->type.dtype;
    ir::Value* maximum = add_typed_value(graph, name + ".max", dtype, reduced);
    ir::Value* shifted = add_typed_value(graph, name + ".shifted", dtype, *dims);
    ir::Value* exponent = add_typed_value(graph, name + ".exp", dtype, *dims);
    ir::Value* sum = add_typed_value(graph, name + ".sum", dtype, reduced);
    // ReduceMax takes its axes as an input from opset 18, ReduceSum from opset 13.
    auto reduce = [&](const std::string& op, ir::Value* input, ir::Value* output, int64_t axes_input_from) {
      std::vector<ir::Value*> inputs{input};
      if (opset >= axes_input_from) inputs.push_back(add_int64_constant(graph, name + ".axes", {axis}));
      ir::Node* node = graph.add_node(op, inputs, {output}, name + "." + op);
      node->attributes["keepdims"] = integer_attribute(1);
      if (opset < axes_input_from) node->attributes["axes"] = integers_attribute({axis});
    };
    reduce("ReduceMax", x, maximum, 18);
    graph.add_node("Sub", {x, maximum}, {shifted}, name + ".sub");
    graph.add_node("Exp", {shifted}, {exponent}, name + ".exp");
    reduce("ReduceSum", exponent, sum, 13);
    graph.add_node("Div", {exponent, sum}, {y}, name + ".div");
    result.notes.push_back("Softmax '" + name + "' (axis " + std::to_string(axis) + ") → ReduceMax, Sub, Exp, ReduceSum, Div");
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
