// decompose-gelu: Gelu (opset 20) written out in the ops it is defined by, for targets that run those but not
// Gelu itself. Exact up to float rounding, each form as the ONNX definition states it:
//   approximate "none": 0.5 · x · (1 + Erf(x · 1/√2))                          (Mul, Erf, Add)
//   approximate "tanh": 0.5 · x · (1 + Tanh(√(2/π) · (x + 0.044715 · x³)))     (Mul, Add, Tanh)
#pragma once

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

PassResult decompose_gelu(ir::Model& model, const NodeFilter& filter = every_node);

}  // namespace npukit::passes
