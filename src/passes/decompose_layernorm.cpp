#include "passes/decompose_layernorm.h"

#include "passes/graph_editing.h"

namespace npukit::passes {

PassResult decompose_layernorm(ir::Model& model, const NodeFilter& filter) {
  PassResult result;
  result.pass = "decompose-layernorm";
  ir::Graph& graph = *model.graph;
  // ReduceMean takes its axes as an attribute before opset 18 and as an input from 18 on.
  const bool axes_as_input = model.opset() >= 18;
  std::vector<ir::Node*> norms;
  for (const auto& node : graph.nodes()) {
    if (node->op_type != "LayerNormalization" || !node->domain.empty() || !filter(*node)) continue;
    bool extra_outputs_read = false;
    for (size_t i = 1; i < node->outputs.size(); ++i) {
      const ir::Value* output = node->output(i);
      if (output && (!output->consumers.empty() || output->is_graph_output)) extra_outputs_read = true;
    }
    auto dims = static_dims_of(node->input(0));
    if (!extra_outputs_read && dims && node->input(0)->type.dtype == DType::f32) norms.push_back(node.get());
  }
  for (ir::Node* norm : norms) {
    ir::Value* x = norm->input(0);
    ir::Value* scale = norm->input(1);
    ir::Value* bias = norm->input(2);
    ir::Value* y = norm->output(0);
    const std::vector<int64_t> dims = *static_dims_of(x);
    const int64_t rank = static_cast<int64_t>(dims.size());
    int64_t axis = norm->get_int("axis", -1);
    if (axis < 0) axis += rank;
    const double epsilon = norm->get_float("epsilon", 1e-5);
    std::vector<int64_t> axes, reduced = dims;
    for (int64_t a = axis; a < rank; ++a) {
      axes.push_back(a);
      reduced[static_cast<size_t>(a)] = 1;
    }
    const std::string name = norm->name.empty() ? "layernorm" : norm->name;
    std::vector<ir::Value*> extra_outputs(norm->outputs.begin() + 1, norm->outputs.end());
    graph.remove_node(norm);
    for (ir::Value* unused : extra_outputs) {
      if (unused) graph.remove_value(unused);
    }
    auto mean_of = [&](ir::Value* input, const std::string& suffix) {
      ir::Value* output = add_typed_value(graph, name + suffix, DType::f32, reduced);
      std::vector<ir::Value*> inputs = {input};
      if (axes_as_input) inputs.push_back(add_int64_constant(graph, name + suffix + ".axes", axes));
      ir::Node* reduce = graph.add_node("ReduceMean", inputs, {output}, name + suffix);
      if (!axes_as_input) reduce->attributes["axes"] = integers_attribute(axes);
      reduce->attributes["keepdims"] = integer_attribute(1);
      return output;
    };
    auto binary = [&](const std::string& op, ir::Value* a, ir::Value* b, const std::vector<int64_t>& shape,
                      const std::string& suffix, ir::Value* output = nullptr) {
      if (!output) output = add_typed_value(graph, name + suffix, DType::f32, shape);
      graph.add_node(op, {a, b}, {output}, name + suffix);
      return output;
    };
    ir::Value* mean = mean_of(x, ".mean");
    ir::Value* centered = binary("Sub", x, mean, dims, ".centered");
    ir::Value* squared = binary("Mul", centered, centered, dims, ".squared");
    ir::Value* variance = mean_of(squared, ".variance");
    ir::Value* shifted = binary("Add", variance, add_float_constant(graph, name + ".epsilon", {}, {static_cast<float>(epsilon)}),
                                reduced, ".variance_epsilon");
    ir::Value* deviation = add_typed_value(graph, name + ".deviation", DType::f32, reduced);
    graph.add_node("Sqrt", {shifted}, {deviation}, name + ".deviation");
    ir::Value* normalized = binary("Div", centered, deviation, dims, ".normalized");
    if (bias) {
      ir::Value* scaled = binary("Mul", normalized, scale, dims, ".scaled");
      binary("Add", scaled, bias, dims, ".shifted", y);
    } else {
      binary("Mul", normalized, scale, dims, ".scaled", y);
    }
    result.notes.push_back("LayerNorm '" + name + "' → ReduceMean, Sub, Mul, Add, Sqrt, Div");
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
