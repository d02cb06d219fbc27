// Which nodes a rewrite pass may touch. `npukit patch` builds it from the check's suggestions, so a
// decomposition runs only where the target refuses the original op; tests pass `every_node`.
#pragma once

#include <functional>

#include "ir/graph.h"

namespace npukit::passes {

using NodeFilter = std::function<bool(const ir::Node&)>;

inline bool every_node(const ir::Node&) { return true; }

}  // namespace npukit::passes
