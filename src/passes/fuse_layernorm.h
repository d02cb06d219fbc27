// fuse-layernorm: LayerNorm written out by hand (passes/layernorm_pattern.h) folded back into one
// LayerNormalization (opset 17+), for targets that run LayerNormalization but refuse a piece of the written
// form: RKNN runs ReduceMean and Sqrt on the CPU, so every written LayerNorm of a wake-word or transformer
// model cuts the NPU graph into three more segments. The inverse of decompose-layernorm; `npukit patch` runs
// each only where the target wants it, so they never undo each other.
// Equal up to float rounding (the reference LayerNormalization sums in another order). Models below opset
// 17 are left alone: raising their opset would change the meaning of other ops.
#pragma once

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

// Fuses every written LayerNorm one of whose nodes passes `filter`.
PassResult fuse_layernorm(ir::Model& model, const NodeFilter& filter = every_node);

}  // namespace npukit::passes
