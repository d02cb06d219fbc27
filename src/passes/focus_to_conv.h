// focus-to-conv: YOLOv5's Focus layer (four stride-2 Slices of one tensor, concatenated on channels: a
// space-to-depth) becomes one 2×2 stride-2 Conv with 0/1 weights, which every NPU runs. Exact: each output
// element is one input element times 1 plus zeros.
#pragma once

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

PassResult focus_to_conv(ir::Model& model, const NodeFilter& filter = every_node);

}  // namespace npukit::passes
