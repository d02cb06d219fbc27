// What the layout plans of the cpu backend (blocked_layout.cpp) and of the sim backend (sim/channels_last_plan.cpp)
// share: groups of values that must be held alike (union-find over ir::Value pointers: each node's inputs and
// outputs that must share a layout are joined, then each group is decided once), and the values a node's
// subgraphs read, which must stay plain.
#pragma once

#include <unordered_map>
#include <vector>

#include "ir/graph.h"

namespace npukit::ir {

class ValueComponents {
 public:
  // The group's representative; a value seen for the first time is a group of its own.
  const Value* root(const Value* value) {
    auto found = parent_.find(value);
    if (found == parent_.end()) return parent_[value] = value;
    while (parent_[value] != value) value = parent_[value] = parent_[parent_[value]];  // path halving
    return value;
  }
  void join(const Value* a, const Value* b) { parent_[root(a)] = root(b); }

 private:
  std::unordered_map<const Value*, const Value*> parent_;
};

// The values of `graph` that `node`'s subgraphs (If / Loop bodies) read from the outer scope: their kernels know
// only plain tensors, so the layout plans leave these values plain.
inline std::vector<const Value*> values_read_by_subgraphs(const Node& node, const Graph& graph) {
  std::vector<const Value*> read;
  for (const auto& [key, attribute] : node.attributes) {
    std::vector<std::shared_ptr<Graph>> subgraphs = attribute.graph_values;
    if (attribute.graph_value) subgraphs.push_back(attribute.graph_value);
    for (const auto& subgraph : subgraphs) {
      for (const Value* outer : subgraph->outer_scope_values()) {
        if (const Value* here = graph.find_value(outer->name)) read.push_back(here);
      }
    }
  }
  return read;
}

}  // namespace npukit::ir
