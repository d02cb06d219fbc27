// Groups of values that must share one property (a layout): union-find over ir::Value pointers. The layout plans
// of the cpu backend (blocked_layout.cpp) and of the sim backend (sim/channels_last_plan.cpp) join each node's
// inputs and outputs that must be held alike, then decide once per group.
#pragma once

#include <unordered_map>

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

}  // namespace npukit::ir
