#include "passes/gemm_to_conv.h"

#include "passes/graph_editing.h"

namespace npukit::passes {

PassResult gemm_to_conv(ir::Model& model, const NodeFilter& filter) {
  PassResult result;
  result.pass = "gemm-to-conv";
  ir::Graph& graph = *model.graph;
  std::vector<ir::Node*> gemms;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "Gemm" && filter(*node)) gemms.push_back(node.get());
  }
  for (ir::Node* gemm : gemms) {
    ir::Value* a = gemm->input(0);
    ir::Value* b = gemm->input(1);
    ir::Value* c = gemm->input(2);
    auto a_dims = static_dims_of(a);
    auto out_dims = static_dims_of(gemm->output(0));
    if (gemm->get_int("transA", 0) != 0 || !a_dims || a_dims->size() != 2 || !out_dims || !b || !b->initializer ||
        a->type.dtype != DType::f32 || b->initializer->dtype() != DType::f32 || (c && (!c->initializer || c->initializer->dtype() != DType::f32))) {
      result.notes.push_back("Gemm " + gemm->describe() + " kept: needs transA=0, a 2-D float input and constant weights");
      continue;
    }
    const int64_t m = (*a_dims)[0], k = (*a_dims)[1], n = (*out_dims)[1];
    const bool trans_b = gemm->get_int("transB", 0) != 0;
    const double alpha = gemm->get_float("alpha", 1.0), beta = gemm->get_float("beta", 1.0);
    const Tensor& b_values = *b->initializer;
    std::vector<float> weights(static_cast<size_t>(n * k));
    for (int64_t row = 0; row < n; ++row) {
      for (int64_t col = 0; col < k; ++col) {
        double value = trans_b ? b_values.value_as_double(row * k + col) : b_values.value_as_double(col * n + row);
        weights[static_cast<size_t>(row * k + col)] = static_cast<float>(alpha * value);
      }
    }
    // C broadcasts to [M, N]; a per-column bias ([N], [1, N] or a scalar) is what a Conv bias can hold.
    std::vector<float> bias;
    if (c) {
      const int64_t count = c->initializer->element_count();
      auto c_dims = c->initializer->shape();
      const bool per_column = count == 1 || (count == n && (c_dims.size() == 1 || (c_dims.size() == 2 && c_dims[0] == 1)));
      if (!per_column) {
        result.notes.push_back("Gemm " + gemm->describe() + " kept: its C is not a per-column bias");
        continue;
      }
      for (int64_t col = 0; col < n; ++col) {
        bias.push_back(static_cast<float>(beta * c->initializer->value_as_double(count == 1 ? 0 : col)));
      }
    }
    const std::string name = gemm->name.empty() ? "gemm" : gemm->name;
    ir::Value* y = gemm->output(0);
    graph.remove_node(gemm);
    ir::Value* as_map = add_typed_value(graph, name + ".as_map", DType::f32, {m, k, 1, 1});
    graph.add_node("Reshape", {a, add_int64_constant(graph, name + ".map_shape", {m, k, 1, 1})}, {as_map}, name + ".to_map");
    std::vector<ir::Value*> conv_inputs = {as_map, add_float_constant(graph, name + ".conv_weight", {n, k, 1, 1}, weights)};
    if (!bias.empty()) conv_inputs.push_back(add_float_constant(graph, name + ".conv_bias", {n}, bias));
    ir::Value* conv_out = add_typed_value(graph, name + ".conv_out", DType::f32, {m, n, 1, 1});
    ir::Node* conv = graph.add_node("Conv", conv_inputs, {conv_out}, name + ".conv");
    conv->attributes["kernel_shape"] = integers_attribute({1, 1});
    graph.add_node("Reshape", {conv_out, add_int64_constant(graph, name + ".out_shape", {m, n})}, {y}, name + ".to_matrix");
    result.notes.push_back("Gemm '" + name + "' → Reshape + 1×1 Conv + Reshape");
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
