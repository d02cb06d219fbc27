#include "passes/split_matmul_k.h"

#include <algorithm>

#include "passes/graph_editing.h"

namespace npukit::passes {

PassResult split_matmul_k(ir::Model& model, int64_t max_k, const NodeFilter& filter) {
  PassResult result;
  result.pass = "split-matmul-k";
  ir::Graph& graph = *model.graph;
  if (max_k <= 0) return result;
  std::vector<ir::Node*> matmuls;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "MatMul" && filter(*node)) matmuls.push_back(node.get());
  }
  for (ir::Node* matmul : matmuls) {
    ir::Value* a = matmul->input(0);
    ir::Value* b = matmul->input(1);
    auto a_dims = static_dims_of(a);
    auto out_dims = static_dims_of(matmul->output(0));
    if (!a_dims || a_dims->size() < 2 || !out_dims || !b || !b->initializer || b->initializer->shape().size() != 2 ||
        b->initializer->dtype() != DType::f32 || a->type.dtype != DType::f32) {
      continue;
    }
    const int64_t k = a_dims->back(), n = b->initializer->shape()[1];
    if (k <= max_k) continue;
    const int64_t axis = static_cast<int64_t>(a_dims->size()) - 1;
    const std::string name = matmul->name.empty() ? "matmul" : matmul->name;
    ir::Value* y = matmul->output(0);
    graph.remove_node(matmul);
    ir::Value* sum = nullptr;
    int chunk_index = 0;
    for (int64_t start = 0; start < k; start += max_k, ++chunk_index) {
      const int64_t end = std::min(k, start + max_k);
      const std::string chunk = name + ".k" + std::to_string(chunk_index);
      std::vector<int64_t> slice_dims = *a_dims;
      slice_dims.back() = end - start;
      ir::Value* a_part = add_typed_value(graph, chunk + ".a", DType::f32, slice_dims);
      graph.add_node("Slice",
                     {a, add_int64_constant(graph, chunk + ".starts", {start}), add_int64_constant(graph, chunk + ".ends", {end}),
                      add_int64_constant(graph, chunk + ".axes", {axis})},
                     {a_part}, chunk + ".slice");
      std::vector<float> rows;
      rows.reserve(static_cast<size_t>((end - start) * n));
      for (int64_t row = start; row < end; ++row) {
        for (int64_t column = 0; column < n; ++column) {
          rows.push_back(static_cast<float>(b->initializer->value_as_double(row * n + column)));
        }
      }
      ir::Value* b_part = add_float_constant(graph, chunk + ".b", {end - start, n}, rows);
      ir::Value* product = end == k && sum == nullptr ? y : add_typed_value(graph, chunk + ".product", DType::f32, *out_dims);
      graph.add_node("MatMul", {a_part, b_part}, {product}, chunk + ".matmul");
      if (sum) {
        ir::Value* next = end == k ? y : add_typed_value(graph, chunk + ".sum", DType::f32, *out_dims);
        graph.add_node("Add", {sum, product}, {next}, chunk + ".add");
        sum = next;
      } else {
        sum = product;
      }
    }
    result.notes.push_back("MatMul '" + name + "' K = " + std::to_string(k) + " → " + std::to_string(chunk_index) +
                           " MatMuls of K <= " + std::to_string(max_k) + " and Adds");
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
