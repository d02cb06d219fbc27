// What the public API says about an ir::Value (npukit::ValueInfo: name, dtype, static dims or -1, dim names),
// and the inputs a model declares: one description for the engine, compare and quantize.
#pragma once

#include <vector>

#include "ir/graph.h"
#include "npukit/session.h"

namespace npukit::ir {

ValueInfo describe_value(const Value& value);

// The graph inputs a caller feeds (initializers that are also listed as inputs are left out).
std::vector<ValueInfo> declared_inputs(const Model& model);

}  // namespace npukit::ir
