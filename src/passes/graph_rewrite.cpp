#include "passes/graph_rewrite.h"

#include <vector>

namespace npukit::passes {

std::set<std::string> names_read_by_subgraphs(const ir::Graph& graph) {
  std::set<std::string> names;
  for (const auto& node : graph.nodes()) {
    for (const auto& [key, attribute] : node->attributes) {
      std::vector<std::shared_ptr<ir::Graph>> subgraphs = attribute.graph_values;
      if (attribute.graph_value) subgraphs.push_back(attribute.graph_value);
      for (const auto& subgraph : subgraphs) {
        for (const ir::Value* value : subgraph->outer_scope_values()) names.insert(value->name);
      }
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

std::string unique_value_name(const ir::Graph& graph, const std::string& stem) {
  if (!graph.find_value(stem)) return stem;
  for (int suffix = 1;; ++suffix) {
    std::string name = stem + "_" + std::to_string(suffix);
    if (!graph.find_value(name)) return name;
  }
}

}  // namespace npukit::passes
