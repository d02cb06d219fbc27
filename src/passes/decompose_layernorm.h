// decompose-layernorm: LayerNormalization becomes ReduceMean, Sub, Mul, Add, Sqrt, Div (mean, variance,
// normalise, scale, shift), for targets that run those ops but not LayerNorm. Same arithmetic up to float
// rounding. Only the Y output: a node whose Mean or InvStdDev output is read is left alone.
#pragma once

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

PassResult decompose_layernorm(ir::Model& model, const NodeFilter& filter = every_node);

}  // namespace npukit::passes
