// Small graph edits the passes in this folder share: bypassing a node, dropping values nothing reads,
// and the names that subgraphs (If/Loop/Scan bodies) read from the graph, which a pass must not rename
// or remove because the bodies find them by name at run time.
#pragma once

#include <set>
#include <string>

#include "ir/graph.h"

namespace npukit::passes {

std::set<std::string> names_read_by_subgraphs(const ir::Graph& graph);

// Points every reader of node's output 0 at `replacement` and removes the node. Refused (false) when the
// output is a graph output (its name is part of the model's interface) or read by a subgraph.
bool bypass_node(ir::Graph& graph, ir::Node* node, ir::Value* replacement, const std::set<std::string>& protected_names);

// Removes values nobody produces or reads and that are neither graph inputs nor outputs (orphaned
// outputs and initializers left behind by rewrites).
void remove_unused_values(ir::Graph& graph, const std::set<std::string>& protected_names);

// A value's constant data, or nullptr.
inline const Tensor* constant_of(const ir::Value* value) {
  return value && value->initializer && !value->is_graph_input ? &*value->initializer : nullptr;
}

// A fresh value name in `graph` starting with `stem`.
std::string unique_value_name(const ir::Graph& graph, const std::string& stem);

}  // namespace npukit::passes
