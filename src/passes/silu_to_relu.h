// silu-to-relu (opt-in, changes the model): x · Sigmoid(x) becomes Relu(x). Faster on NPUs that run SiLU
// as two ops or in a lookup table, but the outputs differ: the model must be retrained (or fine-tuned)
// with ReLU. The result says so (changes_meaning), and `npukit patch` runs it only when asked.
#pragma once

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

PassResult silu_to_relu(ir::Model& model, const NodeFilter& filter = every_node);

}  // namespace npukit::passes
