// decompose-hardswish: HardSwish(x) = x · HardSigmoid(x) with alpha 1/6 and beta 1/2, for targets that run
// HardSigmoid and Mul but not HardSwish. Exact up to float rounding ((x + 3)/6 against x/6 + 0.5).
#pragma once

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

PassResult decompose_hardswish(ir::Model& model, const NodeFilter& filter = every_node);

}  // namespace npukit::passes
