// The cpu backend's layout decision for one model: which values it holds in oneDNN's blocked layout
// (nChw16c / nChw8c) instead of plain NCHW. plan_blocked_layouts (blocked_layout.h) makes it when the backend
// prepares a model; the backend keeps it and hands it to every kernel it prepares, so the producer and the
// readers of a value agree on its layout. The IR knows nothing of it: another backend (or a second cpu
// session on the same model) plans its own.
#pragma once

#include <cstddef>
#include <unordered_set>

#include "ir/graph.h"

namespace npukit::runtime::cpu {

class BlockedLayoutPlan {
 public:
  void hold_blocked(const ir::Value* value) { blocked_.insert(value); }
  bool is_blocked(const ir::Value* value) const { return value && blocked_.count(value) != 0; }
  size_t blocked_count() const { return blocked_.size(); }

 private:
  std::unordered_set<const ir::Value*> blocked_;  // values of the model the plan was made for
};

}  // namespace npukit::runtime::cpu
