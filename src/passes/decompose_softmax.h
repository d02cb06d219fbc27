// decompose-softmax: Softmax(x, axis) = Exp(x − ReduceMax(x)) / ReduceSum(Exp(x − ReduceMax(x))) along the axis,
// for targets that run ReduceMax, Sub, Exp, ReduceSum and Div but not Softmax (or not along that axis). Exact up
// to float rounding: subtracting the maximum is what every Softmax kernel does to avoid overflow.
// Before opset 13 Softmax flattens the axes from `axis` on; only axis = last is the same computation there.
#pragma once

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

PassResult decompose_softmax(ir::Model& model, const NodeFilter& filter = every_node);

}  // namespace npukit::passes
