#include "passes/graph_editing.h"

#include <cstring>
#include <memory>
#include <set>
#include <vector>

namespace npukit::passes {

std::string unused_value_name(const ir::Graph& graph, const std::string& base) {
  if (!graph.find_value(base)) return base;
  for (int suffix = 2;; ++suffix) {
    std::string candidate = base + "_" + std::to_string(suffix);
    if (!graph.find_value(candidate)) return candidate;
  }
}

ir::Value* add_typed_value(ir::Graph& graph, const std::string& base, DType dtype, const std::vector<int64_t>& shape) {
  ir::TensorType type;
  type.dtype = dtype;
  std::vector<ir::Dim> dims;
  for (int64_t dim : shape) dims.push_back(ir::Dim::fixed(dim));
  type.shape = dims;
  return graph.add_value(unused_value_name(graph, base), type);
}

ir::Value* add_int64_constant(ir::Graph& graph, const std::string& base, const std::vector<int64_t>& values) {
  Tensor tensor(DType::i64, {static_cast<int64_t>(values.size())});
  if (!values.empty()) std::memcpy(tensor.data<int64_t>(), values.data(), values.size() * sizeof(int64_t));
  return graph.add_initializer(unused_value_name(graph, base), std::move(tensor));
}

ir::Value* add_float_constant(ir::Graph& graph, const std::string& base, const std::vector<int64_t>& shape,
                              const std::vector<float>& values) {
  Tensor tensor(DType::f32, shape);
  if (!values.empty()) std::memcpy(tensor.data<float>(), values.data(), values.size() * sizeof(float));
  return graph.add_initializer(unused_value_name(graph, base), std::move(tensor));
}

std::set<std::string> names_read_by_subgraphs(const ir::Graph& graph) {
  std::set<std::string> names;
  for (const auto& node : graph.nodes()) {
    for (const ir::Graph* subgraph : ir::subgraphs_of(*node)) {
      for (const ir::Value* value : subgraph->outer_scope_values()) names.insert(value->name);
    }
  }
  return names;
}

bool bypass_node(ir::Graph& graph, ir::Node* node, ir::Value* replacement, const std::set<std::string>& protected_names) {
  ir::Value* output = node->output(0);
  if (!output || !replacement || output->is_graph_output || protected_names.count(output->name)) return false;
  graph.replace_all_uses(output, replacement);
  graph.remove_node(node);
  return true;
}

void remove_unused_values(ir::Graph& graph, const std::set<std::string>& protected_names) {
  std::vector<ir::Value*> unused;
  for (const auto& value : graph.values()) {
    if (!value->producer && value->consumers.empty() && !value->is_graph_input && !value->is_graph_output &&
        !value->outer_scope && !protected_names.count(value->name)) {
      unused.push_back(value.get());
    }
  }
  for (ir::Value* value : unused) graph.remove_value(value);
}

int remove_unused_nodes_and_values(ir::Graph& graph) {
  int removed = 0;
  for (bool changed = true; changed;) {
    changed = false;
    for (auto it = graph.nodes().rbegin(); it != graph.nodes().rend(); ++it) {
      ir::Node* node = it->get();
      bool used = false;
      for (const ir::Value* output : node->outputs) {
        if (output && (output->is_graph_output || !output->consumers.empty())) used = true;
      }
      if (!used) {
        std::vector<ir::Value*> outputs = node->outputs;
        graph.remove_node(node);
        for (ir::Value* output : outputs) {
          if (output) graph.remove_value(output);
        }
        ++removed;
        changed = true;
        break;  // the node list changed under the iterator
      }
    }
  }
  remove_unused_values(graph, names_read_by_subgraphs(graph));
  return removed;
}

void tidy_after_rewrites(ir::Graph& graph) {
  remove_unused_nodes_and_values(graph);
  graph.sort_topologically();
  graph.renumber();
}

}  // namespace npukit::passes
